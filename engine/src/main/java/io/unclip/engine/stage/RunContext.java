package io.unclip.engine.stage;

import java.util.function.BooleanSupplier;

/**
 * How a stage run reports and stops.
 *
 * @param listener        receives started / progress / finished events (never null)
 * @param cancellation    polled before every model call of a stage (so a diffusion loop stops
 *                        within one step); true stops the run with
 *                        {@link io.unclip.engine.diffusion.SamplingCancelledException}
 * @param previewInterval attach the x0 prediction to every this-many-th step's progress event (and
 *                        the last); 0 = never
 * @param deadline        {@link System#nanoTime()} by which the caller wants the result (the step
 *                        schedulers admit earliest deadline first); {@link #NO_DEADLINE} = none
 */
public record RunContext(StageListener listener, BooleanSupplier cancellation, int previewInterval, long deadline) {
    public static final long NO_DEADLINE = Long.MAX_VALUE;
    private static final BooleanSupplier NEVER = () -> false;

    public RunContext {
        listener = listener == null ? StageListener.NONE : listener;
        cancellation = cancellation == null ? NEVER : cancellation;
        if (previewInterval < 0) {
            throw new IllegalArgumentException("preview interval must be >= 0, got " + previewInterval);
        }
    }

    public RunContext(StageListener listener, BooleanSupplier cancellation, int previewInterval) {
        this(listener, cancellation, previewInterval, NO_DEADLINE);
    }

    /** No events, no cancellation, no previews. */
    public static RunContext quiet() {
        return new RunContext(null, null, 0);
    }

    public static RunContext of(StageListener listener) {
        return new RunContext(listener, null, 0);
    }

    public RunContext withListener(StageListener l) {
        return new RunContext(l, cancellation, previewInterval, deadline);
    }

    public RunContext withCancellation(BooleanSupplier c) {
        return new RunContext(listener, c, previewInterval, deadline);
    }

    public RunContext withPreviewInterval(int interval) {
        return new RunContext(listener, cancellation, interval, deadline);
    }

    /** With a deadline {@code nanos} from now ({@link System#nanoTime()} based). */
    public RunContext withDeadlineIn(long nanos) {
        return new RunContext(listener, cancellation, previewInterval, System.nanoTime() + nanos);
    }

    public boolean cancelled() {
        return cancellation.getAsBoolean();
    }

    /** Whether step {@code step} (1-based) of {@code total} carries a preview. */
    public boolean previewAt(int step, int total) {
        return previewInterval > 0 && (step % previewInterval == 0 || step == total);
    }
}
