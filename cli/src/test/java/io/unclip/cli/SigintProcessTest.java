package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real SIGINT to a real {@code unclip generate} process (main, as {@code ./unclip} runs it) on the
 * tiny bundle: it exits 130 with the one cancellation line and leaves no PNG. The signal is sent at
 * the prior's first progress event; 8 images x 1000 steps in each of four stages keep the run going
 * for seconds after that (no timing is asserted).
 */
class SigintProcessTest {
    private static final String BUNDLE = System.getProperty("unclip.tiny.bundle",
            "../engine/src/test/resources/bundles/tiny");

    @TempDir
    Path tmp;

    /** Whether this JVM started with SIGINT ignored (children inherit that, and the JVM then cannot handle it). */
    private static boolean sigintIgnored() {
        sun.misc.Signal sig = new sun.misc.Signal("INT");
        try {
            // a no-op handler, not SIG_IGN: once ignored, the JVM refuses to handle INT again
            sun.misc.SignalHandler previous = sun.misc.Signal.handle(sig, s -> { });
            if (previous == sun.misc.SignalHandler.SIG_IGN) {
                return true; // ignored since startup: the JVM installed nothing
            }
            sun.misc.Signal.handle(sig, previous);
            return false;
        } catch (IllegalArgumentException e) {
            return true;
        }
    }

    @Test
    void sigintStopsTheRunWithExit130AndNoOutput() throws Exception {
        assumeTrue(!System.getProperty("os.name").toLowerCase().contains("win"), "POSIX signals");
        assumeTrue(Files.isExecutable(Path.of("/bin/kill")) || Files.isExecutable(Path.of("/usr/bin/kill")),
                "no kill command");
        assumeTrue(!sigintIgnored(), "SIGINT is ignored in this process tree (a background job of a"
                + " non-interactive shell); the child could not receive it either");
        Path out = tmp.resolve("out.png");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                UnclipCommand.class.getName(), "generate", "a small red circle at the top left", "--models",
                Path.of(BUNDLE).toAbsolutePath().toString(), "--json", "--size", "128", "-n", "8", "--prior-steps",
                "1000", "--decoder-steps", "1000", "--sr-steps", "1000", "--threads", "1", "--seed", "3", "-o",
                out.toString()).redirectError(tmp.resolve("err.txt").toFile()).start();
        try {
            boolean sent = false;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (!sent && line.contains("\"event\":\"progress\"") && line.contains("\"stage\":\"prior\"")) {
                        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start();
                        assertEquals(0, kill.waitFor(), "kill -INT");
                        sent = true;
                    }
                }
            }
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the process did not end");
            String err = Files.readString(tmp.resolve("err.txt"));
            assertTrue(sent, "no prior progress seen; stderr: " + err);
            assertEquals(ExitCodes.INTERRUPTED, p.exitValue(), err);
            List<String> lines = err.lines().toList();
            assertEquals(1, lines.size(), err);
            assertTrue(lines.get(0).matches("unclip: cancelled after stage (prior|decoder|upsampler_32|upsampler_128)"
                    + " step \\d+/1000"), err);
            try (Stream<Path> files = Files.list(tmp)) {
                assertEquals(List.of("err.txt"), files.map(f -> f.getFileName().toString()).sorted().toList());
            }
        } finally {
            p.destroyForcibly();
        }
    }
}
