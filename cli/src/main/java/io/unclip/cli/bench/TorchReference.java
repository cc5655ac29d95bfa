package io.unclip.cli.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs the PyTorch eager reference ({@code models/training/torch_reference.py}) as a child process
 * with a given Python, after checking that this Python can import torch and onnx at all, so a
 * machine without them gets a reason instead of a stack trace.
 */
public final class TorchReference {
    /** Debian's python3, where python3-torch and python3-onnx install. */
    public static final Path DEFAULT_PYTHON = Path.of("/usr/bin/python3");
    /** The script, relative to the repository root. */
    public static final String SCRIPT = "models/training/torch_reference.py";

    private static final long PROBE_SECONDS = 120;

    private final Path python;
    private final Path script;

    public TorchReference(Path python, Path script) {
        this.python = python;
        this.script = script;
    }

    public Path python() {
        return python;
    }

    public Path script() {
        return script;
    }

    /** Why the reference cannot run here (one line), or empty when it can. */
    public Optional<String> unavailable() {
        if (!Files.isRegularFile(python)) {
            return Optional.of(python + " not found");
        }
        if (!Files.isExecutable(python)) {
            return Optional.of(python + " is not executable");
        }
        if (script == null || !Files.isRegularFile(script)) {
            return Optional.of("the reference script " + (script == null ? SCRIPT : script) + " is not there");
        }
        try {
            Process p = new ProcessBuilder(python.toString(), "-c", "import torch, onnx")
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(PROBE_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.of(python + " -c 'import torch, onnx' did not finish in " + PROBE_SECONDS + " s");
            }
            if (p.exitValue() != 0) {
                String last = lastLine(out);
                return Optional.of(python + " cannot import torch and onnx (on Debian: apt-get install python3-torch"
                        + " python3-onnx)" + (last.isEmpty() ? "" : ": " + last));
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("cannot run " + python + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while checking " + python);
        }
    }

    /**
     * Runs the reference with {@code args} and parses its report.
     *
     * @param stderrLines receives the reference's progress lines as they come
     * @throws IOException when it cannot start, exits with a failure or prints no usable report
     */
    public TorchReport run(List<String> args, Consumer<String> stderrLines) throws IOException,
            InterruptedException {
        List<String> command = new ArrayList<>(List.of(python.toString(), script.toString()));
        command.addAll(args);
        Process p = new ProcessBuilder(command).start();
        List<String> errLines = new ArrayList<>();
        Thread pump = new Thread(() -> pump(p.getErrorStream(), line -> {
            synchronized (errLines) {
                errLines.add(line);
            }
            stderrLines.accept(line);
        }), "torch-reference-stderr");
        pump.setDaemon(true);
        pump.start();
        try {
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = p.waitFor();
            pump.join(5000);
            try {
                TorchReport report = TorchReport.parse(out);
                if (code != 0) {
                    throw new IOException("the PyTorch reference exited with status " + code);
                }
                return report;
            } catch (IllegalArgumentException e) {
                String last;
                synchronized (errLines) {
                    last = errLines.isEmpty() ? "" : errLines.get(errLines.size() - 1);
                }
                throw new IOException("the PyTorch reference " + (code == 0 ? "" : "exited with status " + code
                        + " and ") + "gave no usable report: " + e.getMessage() + (last.isEmpty() ? "" : " (last"
                        + " stderr line: " + last + ")"));
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly(); // interrupted: do not leave the child sampling
            }
        }
    }

    private static void pump(InputStream in, Consumer<String> lines) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.accept(line);
            }
        } catch (IOException e) {
            // the child went away; its exit status tells the rest
        }
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }
}
