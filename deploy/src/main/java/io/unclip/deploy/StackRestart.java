package io.unclip.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Restarts one named process of a running local stack ("decoder-1", "kafka") with the command
 * line {@link LocalStack#up} started it with ({@link LaunchCommand}), whether it crashed or still
 * runs (then it is stopped gracefully first, as {@code down} would), appending to the same log and
 * recording the new PID in the state file, so that {@code status} and {@code down} follow it.
 */
public final class StackRestart {
    private StackRestart() {
    }

    /** {@link #restart(Path, String, Duration)}, waiting up to 3 minutes for readiness. */
    public static StackProcess restart(Path stateDir, String name) throws IOException, InterruptedException {
        return restart(stateDir, name, Duration.ofMinutes(3));
    }

    /**
     * Stops {@code name} if it runs (SIGTERM, then SIGKILL after {@link Processes#STOP_GRACE}), starts it
     * again with its recorded command line, records the new PID and waits until it is ready (a
     * service's {@code /q/health/ready}, the broker's metadata).
     *
     * @return the new process
     * @throws IllegalArgumentException no process of that name in the stack
     * @throws IllegalStateException    no command line recorded for it, or it did not become ready in time
     */
    public static StackProcess restart(Path stateDir, String name, Duration timeout)
            throws IOException, InterruptedException {
        Path state = stateDir.toAbsolutePath();
        StackProcess old = find(state, name);
        Optional<ProcessHandle> running = old.handle();
        LaunchCommand cmd = LaunchCommand.read(state, name).or(() -> running.flatMap(LaunchCommand::of))
                .orElseThrow(() -> new IllegalStateException("no command line recorded for " + name + " in "
                        + LaunchCommand.file(state, name) + " (a stack started before restart existed?): restart the stack"));
        if (running.isPresent()) {
            Processes.stop(running.get());
        }
        Files.writeString(old.log(), String.format("%n--- %s: restarted by unclip stack restart (was pid %d, %s)%n%n",
                Instant.now(), old.pid(), running.isPresent() ? "stopped" : "not running"),
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        StackProcess fresh = StackProcess.of(old.name(), old.service(), cmd.start(old.log(), true), old.port(),
                old.log());
        StackStatus now = StackState.update(state, procs -> procs.replaceAll(q -> q.name().equals(name) ? fresh : q));
        Readiness.await(now, fresh, timeout);
        return fresh;
    }

    private static StackProcess find(Path state, String name) throws IOException {
        StackStatus s = StackState.status(state);
        if (s.processes().isEmpty()) {
            throw new IllegalArgumentException("no stack at " + state);
        }
        return s.process(name).orElseThrow(() -> new IllegalArgumentException("no process '" + name
                + "' in the stack at " + state + "; its processes: "
                + s.processes().stream().map(StackProcess::name).collect(Collectors.joining(", "))));
    }
}
