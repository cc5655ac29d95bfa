package io.unclip.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/** The stack's child processes: the JVM they run on, stopping them, and the end of a log for an error message. */
final class Processes {
    private Processes() {
    }

    /** How long a running process gets to stop on its own in {@link #stop(ProcessHandle)}. */
    static final Duration STOP_GRACE = Duration.ofSeconds(30);

    /** How long each group gets in {@link #stopAll} before SIGKILL. */
    private static final Duration STOP_ALL_GRACE = Duration.ofSeconds(20);

    /** This JVM's java launcher: every process of the stack runs on it. */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Stops every process that still runs: the services first (SIGTERM, all together, then
     * SIGKILL for those still running after 20 s), the broker last (the same), so that no service
     * loses its broker while it stops.
     */
    static void stopAll(List<StackProcess> procs) throws InterruptedException {
        List<ProcessHandle> services = new ArrayList<>();
        for (StackProcess p : procs) {
            if (!p.isKafka()) {
                p.handle().ifPresent(h -> {
                    h.destroy();
                    services.add(h);
                });
            }
        }
        awaitExit(services, STOP_ALL_GRACE);
        for (StackProcess p : procs) {
            if (p.isKafka()) {
                var h = p.handle();
                if (h.isPresent()) {
                    h.get().destroy();
                    awaitExit(List.of(h.get()), STOP_ALL_GRACE);
                }
            }
        }
    }

    private static void awaitExit(List<ProcessHandle> handles, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle h : handles) {
            long left = Math.max(0, deadline - System.nanoTime());
            try {
                h.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (ExecutionException | TimeoutException e) {
                h.destroyForcibly();
            }
        }
    }

    /** SIGTERM, then SIGKILL after {@link #STOP_GRACE}; returns once it exited. */
    static void stop(ProcessHandle h) throws InterruptedException {
        h.destroy();
        try {
            h.onExit().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            h.destroyForcibly();
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e2) {
                throw new IllegalStateException("pid " + h.pid() + " did not exit after SIGKILL", e2);
            }
        }
    }

    /** The last 30 lines of {@code log}, indented, for an error message. */
    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return "  (" + log + ")\n" + lines.subList(Math.max(0, lines.size() - 30), lines.size()).stream()
                    .map(l -> "  | " + l).collect(Collectors.joining("\n"));
        } catch (IOException | UncheckedIOException e) {
            return "  (no log at " + log + ")";
        }
    }
}
