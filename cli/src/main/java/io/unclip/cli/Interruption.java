package io.unclip.cli;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import sun.misc.Signal;

/**
 * Ctrl-C for the embedded image commands. The first SIGINT only raises a flag that the cascade
 * polls before every model call (so sampling stops within one step and the command can report
 * where, clean up and exit 130); a second one means "now" and runs {@code onSecond} (exit at once).
 *
 * <p>The OS handler is installed only while an interruptible command runs and only when the CLI
 * runs as its own process ({@link UnclipCommand#main}); elsewhere SIGINT keeps the JVM's default
 * (shutdown hooks, as {@code unclip stream} uses). Tests call {@link #request()}, the same hook.
 */
final class Interruption {
    private static final String SIGINT = "INT";

    private final AtomicBoolean requested = new AtomicBoolean();
    private final Runnable onSecond;

    Interruption(Runnable onSecond) {
        this.onSecond = onSecond;
    }

    /** What SIGINT does. */
    void request() {
        if (requested.getAndSet(true)) {
            onSecond.run();
        }
    }

    boolean requested() {
        return requested.get();
    }

    /** The cascade's cancellation check. */
    BooleanSupplier cancellation() {
        return requested::get;
    }

    /** Routes SIGINT to {@link #request()} until closed; a JVM that refuses (e.g. -Xrs) keeps its default. */
    Installed onSigint() {
        Signal sig = new Signal(SIGINT);
        try {
            var previous = Signal.handle(sig, s -> request());
            return () -> Signal.handle(sig, previous);
        } catch (IllegalArgumentException e) {
            return () -> { };
        }
    }

    /** An installed handler; closing restores the previous one. */
    interface Installed extends AutoCloseable {
        @Override
        void close();
    }
}
