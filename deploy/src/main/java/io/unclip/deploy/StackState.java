package io.unclip.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * The state file, {@code <state>/stack.properties}: the addresses and the processes {@code up}
 * started (name, service, PID, port, log, start time), read by {@code down}, {@code status},
 * {@code restart} and {@code scale}. Written whole to a temporary file and moved into place, so a
 * reader never sees half of it.
 */
final class StackState {
    private StackState() {
    }

    static final String FILE = "stack.properties";

    /** Serialises the read-change-write of {@link #update} within this JVM (restart and scale). */
    private static final Object LOCK = new Object();

    static void write(Path state, StackStatus s) throws IOException {
        Properties p = new Properties();
        p.put("bootstrap", s.bootstrapServers());
        p.put("gateway", s.gatewayAddress());
        for (int i = 0; i < s.processes().size(); i++) {
            StackProcess pr = s.processes().get(i);
            String k = "process." + i + ".";
            p.put(k + "name", pr.name());
            p.put(k + "service", pr.service());
            p.put(k + "pid", Long.toString(pr.pid()));
            p.put(k + "port", Integer.toString(pr.port()));
            p.put(k + "log", pr.log().toString());
            if (pr.started() != null) {
                p.put(k + "started", pr.started().toString());
            }
        }
        Path tmp = state.resolve(FILE + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            p.store(out, "unclip local stack: what `up` started (read by down and status)");
        }
        Files.move(tmp, state.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** What the state file lists; empty when there is none. */
    static Optional<StackStatus> read(Path state) throws IOException {
        Path f = state.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(f)) {
            p.load(in);
        }
        List<StackProcess> procs = new ArrayList<>();
        for (int i = 0; p.containsKey("process." + i + ".pid"); i++) {
            String k = "process." + i + ".";
            String started = p.getProperty(k + "started");
            procs.add(new StackProcess(p.getProperty(k + "name"), p.getProperty(k + "service"),
                    Long.parseLong(p.getProperty(k + "pid")), Integer.parseInt(p.getProperty(k + "port")),
                    Path.of(p.getProperty(k + "log")), started == null ? null : Instant.parse(started)));
        }
        return Optional.of(new StackStatus(state, p.getProperty("bootstrap", ""), p.getProperty("gateway", ""),
                procs));
    }

    /** What the state file lists, or no processes when there is none. */
    static StackStatus status(Path state) throws IOException {
        return read(state).orElse(StackStatus.none(state));
    }

    /** Reads the state, lets {@code change} edit its process list, writes it back; returns what it wrote. */
    static StackStatus update(Path state, Consumer<List<StackProcess>> change) throws IOException {
        synchronized (LOCK) {
            StackStatus s = status(state);
            List<StackProcess> procs = new ArrayList<>(s.processes());
            change.accept(procs);
            StackStatus now = s.with(procs);
            write(state, now);
            return now;
        }
    }

    static void delete(Path state) throws IOException {
        Files.deleteIfExists(state.resolve(FILE));
    }
}
