package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.image.PngCodec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Ctrl-C in the embedded image commands, in process: the test pulls the same hook SIGINT does
 * ({@link Interruption#request()}) when a chosen progress event is printed, so the point of
 * interruption is exact. {@link SigintProcessTest} sends a real SIGINT to a real process.
 */
class CtrlCTest {
    private static final String BUNDLE = System.getProperty("unclip.tiny.bundle",
            "../engine/src/test/resources/bundles/tiny");
    private static final String PROMPT = "a small red circle at the top left";

    @TempDir
    Path tmp;

    /** stdout that calls {@code action} once, when a line matching {@code when} is printed. */
    private static final class Tripwire extends Writer {
        private final StringBuilder all = new StringBuilder();
        private final StringBuilder line = new StringBuilder();
        private final Predicate<String> when;
        private final Runnable action;
        private boolean fired;

        Tripwire(Predicate<String> when, Runnable action) {
            this.when = when;
            this.action = action;
        }

        @Override
        public void write(char[] buf, int off, int len) {
            for (int i = off; i < off + len; i++) {
                all.append(buf[i]);
                if (buf[i] == '\n') {
                    if (!fired && when.test(line.toString())) {
                        fired = true;
                        action.run();
                    }
                    line.setLength(0);
                } else {
                    line.append(buf[i]);
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    private record Run(int code, String out, String err, boolean fired) {
    }

    private static Run run(Predicate<String> when, String... args) {
        UnclipCommand command = new UnclipCommand();
        CommandLine cl = new CommandLine(command);
        Tripwire out = new Tripwire(when, () -> command.interruption().request());
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.all.toString(), err.toString(), out.fired);
    }

    private static Predicate<String> progress(String stage, int step) {
        return l -> l.contains("\"event\":\"progress\"") && l.contains("\"stage\":\"" + stage + "\"")
                && l.contains("\"step\":" + step + ",");
    }

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.walk(tmp)) {
            return s.filter(Files::isRegularFile).map(p -> tmp.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void generateStopsWithinOneStepSaysWhereAndWritesNothing() throws IOException {
        Path out = tmp.resolve("out.png");
        Run r = run(progress("decoder", 2), "generate", PROMPT, "--models", BUNDLE, "--json", "--size", "32",
                "--prior-steps", "2", "--decoder-steps", "6", "--sr-steps", "2", "--threads", "1", "--seed", "1",
                "-o", out.toString());
        assertTrue(r.fired(), r.out());
        assertEquals(ExitCodes.INTERRUPTED, r.code(), r.err());
        assertEquals(List.of("unclip: cancelled after stage decoder step 2/6"), r.err().lines().toList());
        assertTrue(r.out().contains("\"event\":\"cancelled\",\"stage\":\"decoder\",\"step\":2,\"total\":6"), r.out());
        assertFalse(r.out().contains("\"stage\":\"decoder\",\"step\":3"), "no step after the interruption: " + r.out());
        assertEquals(List.of(), files(), "no output PNG, no temporary file");
    }

    @Test
    void batchKeepsTheFinishedImagesAndStopsAtTheInterruptedLine() throws IOException {
        Path prompts = tmp.resolve("p.jsonl");
        Files.writeString(prompts, "{\"id\": \"a\", \"prompt\": \"" + PROMPT + "\", \"seed\": 1}\n"
                + "{\"id\": \"b\", \"prompt\": \"a blue square\", \"seed\": 2}\n"
                + "{\"id\": \"c\", \"prompt\": \"a green circle\", \"seed\": 3}\n", StandardCharsets.UTF_8);
        Path dir = tmp.resolve("out");
        Run r = run(l -> l.contains("\"id\":\"b\"") && progress("upsampler_32", 1).test(l), "generate", "--prompts",
                prompts.toString(), "--out-dir", dir.toString(), "--models", BUNDLE, "--json", "--size", "32",
                "--prior-steps", "2", "--decoder-steps", "3", "--sr-steps", "3", "--threads", "1");
        assertTrue(r.fired(), r.out());
        assertEquals(ExitCodes.INTERRUPTED, r.code(), r.err());
        assertEquals(List.of("unclip: cancelled after stage upsampler_32 step 1/3"), r.err().lines().toList());
        assertEquals(List.of("out/a.png", "p.jsonl"), files(), "line a stays, b is not written, c never starts");
        assertEquals(32, PngCodec.withDefaultLimits().read(dir.resolve("a.png")).pixels().dim(3));
        assertFalse(r.out().contains("\"id\":\"c\""), r.out());
    }

    @Test
    void variationsStopToo() throws IOException {
        Path source = tmp.resolve("src.png");
        Run first = run(l -> false, "generate", PROMPT, "--models", BUNDLE, "--size", "32", "--prior-steps", "2",
                "--decoder-steps", "2", "--sr-steps", "1", "--threads", "1", "--seed", "1", "-o", source.toString());
        assertEquals(0, first.code(), first.err());
        Path out = tmp.resolve("var.png");
        Run r = run(progress("decoder", 1), "variations", source.toString(), "--models", BUNDLE, "--json", "--size",
                "32", "--decoder-steps", "4", "--sr-steps", "2", "--threads", "1", "-o", out.toString());
        assertEquals(ExitCodes.INTERRUPTED, r.code(), r.err());
        assertEquals(List.of("unclip: cancelled after stage decoder step 1/4"), r.err().lines().toList());
        assertFalse(Files.exists(out));
    }

    @Test
    void aSecondRequestRunsTheImmediateExit() {
        int[] hard = {0};
        Interruption i = new Interruption(() -> hard[0]++);
        assertFalse(i.cancellation().getAsBoolean());
        i.request();
        assertTrue(i.requested() && i.cancellation().getAsBoolean());
        assertEquals(0, hard[0], "the first Ctrl-C only asks the cascade to stop");
        i.request();
        assertEquals(1, hard[0]);
    }
}
