package io.unclip.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * A process's command line and working directory, and its record in the state directory,
 * {@code <state>/commands/<name>.properties}: a killed process's command line is gone with it,
 * and the state file holds only PIDs, ports and logs, so every process is recorded as it starts
 * ({@code restart} runs it again, {@code scale} copies it for a new replica).
 */
record LaunchCommand(Path dir, List<String> args) {
    LaunchCommand {
        args = List.copyOf(args);
    }

    /** {@code args}, run in this JVM's working directory. */
    static LaunchCommand here(List<String> args) {
        return new LaunchCommand(Path.of("").toAbsolutePath(), args);
    }

    static Path file(Path state, String name) {
        return state.resolve("commands").resolve(name + ".properties");
    }

    /** Records this as how {@code name} was started. */
    void record(Path state, String name) throws IOException {
        Properties p = new Properties();
        p.put("dir", dir.toString());
        for (int i = 0; i < args.size(); i++) {
            p.put("arg." + i, args.get(i));
        }
        Path f = file(state, name);
        Files.createDirectories(f.getParent());
        Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            p.store(out, "unclip local stack: the command line of " + name + " (read by restart)");
        }
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** How {@code name} was started, if that was recorded. */
    static Optional<LaunchCommand> read(Path state, String name) throws IOException {
        Path f = file(state, name);
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
        return Optional.of(new LaunchCommand(Path.of(p.getProperty("dir", ".")), args));
    }

    static void delete(Path state, String name) throws IOException {
        Files.deleteIfExists(file(state, name));
    }

    /** A running process's command line as the OS reports it: for stacks started before command files. */
    static Optional<LaunchCommand> of(ProcessHandle h) {
        ProcessHandle.Info info = h.info();
        if (info.command().isEmpty() || info.arguments().isEmpty()) {
            return Optional.empty();
        }
        List<String> args = new ArrayList<>();
        args.add(info.command().get());
        args.addAll(List.of(info.arguments().get()));
        return Optional.of(here(args));
    }

    /** Starts it, its output (stdout and stderr) written to {@code log}, or appended when {@code append}. */
    Process start(Path log, boolean append) throws IOException {
        return new ProcessBuilder(args).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(append ? ProcessBuilder.Redirect.appendTo(log.toFile())
                        : ProcessBuilder.Redirect.to(log.toFile()))
                .start();
    }
}
