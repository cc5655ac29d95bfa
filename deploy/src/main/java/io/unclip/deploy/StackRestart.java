package io.unclip.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Restarts one named process of a running local stack ("decoder-1", "kafka") with the command
 * line {@link LocalStack#up} started it with, whether it crashed or still runs (then it is stopped
 * gracefully first, as {@code down} would), appending to the same log and recording the new PID in
 * the state file, so that {@code status} and {@code down} follow it.
 *
 * <p>Why a command file: a killed process's command line is gone with it, and the state file
 * holds only PIDs, ports and logs; {@code up} therefore records each process's command line and
 * working directory in {@code <state>/commands/<name>.properties} as it starts it.
 */
public final class StackRestart {
    private StackRestart() {
    }

    /** How long a running process gets to stop (a stage worker's running task gets 10 s of it). */
    static final Duration STOP_GRACE = Duration.ofSeconds(30);

    /** Serialises restarts and scaling within this JVM: each rewrites the state file. */
    static final Object STATE_LOCK = new Object();

    /** {@link #restart(Path, String, Duration)}, waiting up to 3 minutes for readiness. */
    public static LocalStack.Proc restart(Path stateDir, String name) throws IOException, InterruptedException {
        return restart(stateDir, name, Duration.ofMinutes(3));
    }

    /**
     * Stops {@code name} if it runs (SIGTERM, then SIGKILL after {@link #STOP_GRACE}), starts it
     * again with its recorded command line, records the new PID and waits until it is ready (a
     * service's {@code /q/health/ready}, the broker's metadata).
     *
     * @return the new process
     * @throws IllegalArgumentException no process of that name in the stack
     * @throws IllegalStateException    no command line recorded for it, or it did not become ready in time
     */
    public static LocalStack.Proc restart(Path stateDir, String name, Duration timeout)
            throws IOException, InterruptedException {
        Path state = stateDir.toAbsolutePath();
        LocalStack.Proc old = find(state, name);
        Optional<ProcessHandle> running = old.handle();
        Command cmd = readCommand(state, name).or(() -> running.flatMap(StackRestart::commandOf))
                .orElseThrow(() -> new IllegalStateException("no command line recorded for " + name + " in "
                        + commandFile(state, name) + " (a stack started before restart existed?): restart the stack"));
        if (running.isPresent()) {
            stop(running.get());
        }
        Files.writeString(old.log(), String.format("%n--- %s: restarted by unclip stack restart (was pid %d, %s)%n%n",
                Instant.now(), old.pid(), running.isPresent() ? "stopped" : "not running"),
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        Process p = new ProcessBuilder(cmd.args()).directory(cmd.dir().toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(old.log().toFile())).start();
        LocalStack.Proc fresh = new LocalStack.Proc(old.name(), old.service(), p.pid(), old.port(), old.log(),
                p.toHandle().info().startInstant().orElse(null));
        LocalStack.Status now;
        synchronized (STATE_LOCK) {
            LocalStack.Status s = LocalStack.status(state);
            List<LocalStack.Proc> procs = new ArrayList<>(s.processes());
            procs.replaceAll(q -> q.name().equals(name) ? fresh : q);
            now = new LocalStack.Status(state, s.bootstrapServers(), s.gatewayAddress(), List.copyOf(procs));
            LocalStack.write(state, now);
        }
        if (fresh.service().equals("kafka")) {
            LocalStack.awaitKafka(now.bootstrapServers(), fresh, timeout);
        } else {
            LocalStack.awaitReady(fresh, System.nanoTime() + timeout.toNanos());
        }
        return fresh;
    }

    private static LocalStack.Proc find(Path state, String name) throws IOException {
        LocalStack.Status s = LocalStack.status(state);
        if (s.processes().isEmpty()) {
            throw new IllegalArgumentException("no stack at " + state);
        }
        return s.process(name).orElseThrow(() -> new IllegalArgumentException("no process '" + name
                + "' in the stack at " + state + "; its processes: "
                + s.processes().stream().map(LocalStack.Proc::name).collect(Collectors.joining(", "))));
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

    // -------------------------------------------------------------------------------------------
    // command files

    /** A process's command line and working directory. */
    record Command(Path dir, List<String> args) {
        Command {
            args = List.copyOf(args);
        }
    }

    static Path commandFile(Path state, String name) {
        return state.resolve("commands").resolve(name + ".properties");
    }

    /** Records how {@code name} was started (called by {@link LocalStack#up} for every process). */
    static void recordCommand(Path state, String name, List<String> args) throws IOException {
        Properties p = new Properties();
        p.put("dir", Path.of("").toAbsolutePath().toString());
        for (int i = 0; i < args.size(); i++) {
            p.put("arg." + i, args.get(i));
        }
        Path f = commandFile(state, name);
        Files.createDirectories(f.getParent());
        Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            p.store(out, "unclip local stack: the command line of " + name + " (read by restart)");
        }
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static Optional<Command> readCommand(Path state, String name) throws IOException {
        Path f = commandFile(state, name);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(f)) {
            p.load(in);
        }
        List<String> args = new ArrayList<>();
        for (int i = 0; p.containsKey("arg." + i); i++) {
            args.add(p.getProperty("arg." + i));
        }
        if (args.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Command(Path.of(p.getProperty("dir", ".")), args));
    }

    /** A running process's command line as the OS reports it: for stacks started before command files. */
    private static Optional<Command> commandOf(ProcessHandle h) {
        ProcessHandle.Info info = h.info();
        if (info.command().isEmpty() || info.arguments().isEmpty()) {
            return Optional.empty();
        }
        List<String> args = new ArrayList<>();
        args.add(info.command().get());
        args.addAll(List.of(info.arguments().get()));
        return Optional.of(new Command(Path.of("").toAbsolutePath(), args));
    }
}
