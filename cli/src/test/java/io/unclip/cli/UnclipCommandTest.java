package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unclip.engine.image.DecodedImage;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The unclip command end to end against the engine's tiny bundle. */
class UnclipCommandTest {
    private static final String BUNDLE = System.getProperty("unclip.tiny.bundle",
            "../engine/src/test/resources/bundles/tiny");
    /** Few steps: the tiny models are random, the plumbing is under test. */
    private static final String[] FAST = {"--models", BUNDLE, "--prior-steps", "2", "--decoder-steps", "3",
        "--sr-steps", "2", "--threads", "1"};
    private static final String[] FAST_IMAGE = {"--models", BUNDLE, "--decoder-steps", "3", "--sr-steps", "2",
        "--threads", "1"};
    private static final String PROMPT = "a small red circle at the top left";

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\n"));
        }
    }

    /** Runs {@code new CommandLine(new UnclipCommand()).execute(args)} capturing stdout and stderr. */
    static Result run(UnclipCommand command, String... args) {
        CommandLine cl = new CommandLine(command);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    static Result run(String... args) {
        return run(new UnclipCommand(), args);
    }

    /** Runs the command as the unclip launcher does, in {@code workDir}, with no environment variables. */
    static Result runIn(Path workDir, String... args) {
        Environment env = new Environment(Map.of(), workDir, Optional.empty(), false);
        CommandLine cl = UnclipCommand.commandLine(new UnclipCommand(env));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    static String[] args(String[] base, String... more) {
        String[] all = Arrays.copyOf(more, more.length + base.length);
        System.arraycopy(base, 0, all, more.length, base.length);
        return all;
    }

    private Path generate(String name, String... more) {
        Path out = tmp.resolve(name);
        List<String> a = new ArrayList<>(List.of("generate", PROMPT, "--size", "32", "-o", out.toString()));
        a.addAll(List.of(more));
        if (!a.contains("--seed")) {
            a.addAll(List.of("--seed", "42"));
        }
        Result r = run(args(FAST, a.toArray(String[]::new)));
        assertEquals(0, r.code(), r.err());
        return out;
    }

    // ---- generate ----

    @Test
    void generateWritesAPngWithItsParameters() throws IOException {
        Path out = generate("out.png");
        DecodedImage img = PngCodec.withDefaultLimits().read(out);
        assertEquals(32, img.width());
        Map<String, String> t = img.text();
        assertEquals(PROMPT, t.get("prompt"));
        assertEquals("42", t.get("seed"));
        assertEquals("32x32", t.get("size"));
        assertEquals("8,32", t.get("sizes"));
        assertEquals("ddpm, 3 (3 steps), eta 0, guidance 8, clip 1", t.get("decoder"));
        assertEquals("ddim, ddim2 (2 steps), eta 0, guidance 4, clip none, best of 2", t.get("prior"));
        assertEquals("ddim, ddim2 (2 steps), eta 0, guidance 1, clip 1", t.get("upsampler_32"));
        assertEquals("tiny 1.0.0", t.get("bundle"));
        JsonNode p = new ObjectMapper().readTree(t.get("parameters"));
        assertEquals("generate", p.get("mode").asText());
        assertEquals(3, p.get("stages").get("decoder").get("steps").asInt());
        assertEquals("tiny", p.get("bundle").get("name").asText());
    }

    /** Every diffusion stage takes the respacing grammar, a sampler and eta from the command line; the PNG records them. */
    @Test
    void everyStageTakesRespacingSamplerAndEta() throws IOException {
        Path out = tmp.resolve("respaced.png");
        Result r = run("generate", PROMPT, "--size", "32", "--seed", "3", "-o", out.toString(), "--models", BUNDLE,
                "--threads", "1", "--prior-respacing", "3", "--prior-sampler", "ddpm", "--decoder-respacing", "2,2",
                "--decoder-sampler", "ddim", "--decoder-eta", "0.5", "--sr-respacing", "trailing2", "--sr-sampler",
                "ddpm");
        assertEquals(0, r.code(), r.err());
        Map<String, String> t = PngCodec.withDefaultLimits().read(out).text();
        assertEquals("ddpm, 3 (3 steps), eta 0, guidance 4, clip none, best of 2", t.get("prior"));
        assertEquals("ddim, 2,2 (4 steps), eta 0.5, guidance 8, clip 1", t.get("decoder"));
        assertEquals("ddpm, trailing2 (2 steps), eta 0, guidance 1, clip 1", t.get("upsampler_32"));

        Result both = run(args(FAST, "generate", PROMPT, "--decoder-respacing", "ddim2", "-o",
                tmp.resolve("x.png").toString()));
        assertEquals(2, both.code(), both.err());
        assertTrue(both.err().contains("decoder"), both.err());
        Result bad = run(args(FAST_IMAGE, "generate", PROMPT, "--prior-respacing", "ddimx", "-o",
                tmp.resolve("y.png").toString()));
        assertEquals(2, bad.code(), bad.err());
    }

    @Test
    void sameSeedSameBytesAndSeveralImagesAreNumbered() throws IOException {
        Path a = generate("a.png");
        Path b = generate("b.png");
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        generate("many.png", "-n", "3", "--decoder-guidance", "2", "--sampler", "ddim", "--eta", "0.5");
        for (int i = 0; i < 3; i++) {
            Path f = tmp.resolve("many-" + i + ".png");
            assertTrue(Files.exists(f), f.toString());
            Map<String, String> t = PngCodec.withDefaultLimits().read(f).text();
            assertEquals(String.valueOf(i), t.get("image_index"));
            assertEquals("ddim, 3 (3 steps), eta 0.5, guidance 2, clip 1", t.get("decoder"));
        }
        assertFalse(Files.exists(tmp.resolve("many.png")));
    }

    @Test
    void jsonEventsOnePerLine() throws IOException {
        Path out = tmp.resolve("j.png");
        Result r = run(args(FAST, "generate", PROMPT, "--size", "8", "-o", out.toString(), "--json"));
        assertEquals(0, r.code(), r.err());
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> events = new ArrayList<>();
        for (String line : r.out().split("\n")) {
            events.add(json.readTree(line));
        }
        assertEquals("started", events.get(0).get("event").asText());
        String seed = events.get(0).get("seed").asText();
        assertTrue(events.stream().anyMatch(e -> e.get("event").asText().equals("stage_finished")
                && e.get("stage").asText().equals("decoder") && e.get("ort_ms").isNumber()));
        JsonNode done = events.get(events.size() - 1);
        assertEquals("done", done.get("event").asText());
        assertEquals(seed, done.get("seed").asText());
        assertEquals(out.toString(), done.get("files").get(0).asText());
        assertEquals(seed, PngCodec.withDefaultLimits().read(out).text().get("seed"), "random seed reported");
    }

    @Test
    void decoderCandidatesAreRankedAndRecorded() throws IOException {
        Path out = tmp.resolve("k.png");
        Result r = run(args(FAST, "generate", PROMPT, "--size", "8", "-o", out.toString(), "--decoder-candidates", "3",
                "--json"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"rows\":3"), "the decoder samples the three candidates together: " + r.out());
        assertEquals("ddpm, 3 (3 steps), eta 0, guidance 8, clip 1, best of 3",
                PngCodec.withDefaultLimits().read(out).text().get("decoder"));
        assertOneLine(2, "unclip: --decoder-candidates: must be between 1 and 8, got 9",
                run(args(FAST, "generate", PROMPT, "--decoder-candidates", "9")));
    }

    @Test
    void priorCandidatesAreThePriorsSamplerField() throws IOException {
        Path out = tmp.resolve("p.png");
        Result r = run(args(FAST, "generate", PROMPT, "--size", "8", "-o", out.toString(), "--candidates", "3",
                "--json"));
        assertEquals(0, r.code(), r.err());
        Map<String, String> t = PngCodec.withDefaultLimits().read(out).text();
        assertTrue(t.get("prior").endsWith(", best of 3"), t.get("prior"));
        assertTrue(t.get("parameters").contains("\"prior\":{") && t.get("parameters").contains("\"candidates\":3"),
                t.get("parameters"));
        run(args(FAST, "generate", PROMPT, "--size", "8", "-o", out.toString(), "--candidates", "1"));
        assertFalse(PngCodec.withDefaultLimits().read(out).text().get("prior").contains("best of"));
        assertOneLine(2, "unclip: --candidates: must be between 1 and 8, got 9",
                run(args(FAST, "generate", PROMPT, "--candidates", "9")));
    }

    @Test
    void plainProgressLinesAndPreviews() throws IOException {
        Path previews = tmp.resolve("previews");
        Result r = run(args(FAST, "generate", PROMPT, "--size", "32", "-o", tmp.resolve("p.png").toString(),
                "--previews", previews.toString(), "--preview-interval", "2"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("decoder: step 1/3"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("decoder") && l.contains("3 steps")), r.out());
        assertTrue(r.out().contains("done: seed "), r.out());
        try (Stream<Path> files = Files.list(previews)) {
            assertEquals(List.of("decoder-step002-0.png", "decoder-step003-0.png", "upsampler_32-step002-0.png"),
                    files.map(f -> f.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void batchModeRunsGoodLinesAndReportsBadOnes() throws IOException {
        Path prompts = tmp.resolve("prompts.jsonl");
        Files.writeString(prompts, String.join("\n",
                "{\"id\": \"one\", \"prompt\": \"a red circle\", \"seed\": 5, \"style\": \"ignored\"}",
                "{not json",
                "",
                "{\"id\": \"two\", \"prompt\": \"a red dog\"}",
                "{\"prompt\": \"a blue square\"}",
                "{\"id\": \"one\", \"prompt\": \"a red circle\"}",
                "{\"id\": \"s\", \"prompt\": \"a red circle\", \"seed\": -1}",
                "{\"id\": \"empty\", \"prompt\": \" \"}") + "\n");
        Path dir = tmp.resolve("batch");
        Result r = run(args(FAST, "generate", "--prompts", prompts.toString(), "--out-dir", dir.toString(),
                "--size", "8"));
        assertEquals(1, r.code(), "some lines failed");
        assertTrue(Files.exists(dir.resolve("one.png")));
        assertTrue(Files.exists(dir.resolve("line-5.png")));
        assertEquals("5", PngCodec.withDefaultLimits().read(dir.resolve("one.png")).text().get("seed"));
        List<String> errors = r.errLines();
        assertEquals(5, errors.size(), r.err());
        assertTrue(errors.get(0).startsWith("unclip: line 2: not valid JSON"), errors.get(0));
        assertEquals("unclip: line 4 (two): prompt: uses a word outside the model's vocabulary: 'dog'", errors.get(1));
        assertEquals("unclip: line 6: \"id\" 'one' is used by an earlier line", errors.get(2));
        assertEquals("unclip: line 7: \"seed\": -1 is not a seed (an integer from 0 to 18446744073709551615)",
                errors.get(3));
        assertEquals("unclip: line 8 (empty): prompt: must not be empty", errors.get(4));
        assertTrue(r.out().contains("batch: 2 of 7 prompts done, 5 failed"), r.out());
    }

    @Test
    void batchLinesRunAtOnceWithConcurrencyAndGiveTheSameBytes() throws IOException {
        Path prompts = tmp.resolve("many.jsonl");
        Files.writeString(prompts, String.join("\n",
                "{\"id\": \"a\", \"prompt\": \"a red circle\", \"seed\": 1}",
                "{\"id\": \"b\", \"prompt\": \"a blue square\", \"seed\": 2}",
                "{\"id\": \"c\", \"prompt\": \"a red dog\"}",
                "{\"id\": \"d\", \"prompt\": \"a green triangle\", \"seed\": 4}",
                "{\"id\": \"e\", \"prompt\": \"a yellow circle\", \"seed\": 5}") + "\n");
        Path one = tmp.resolve("one-at-a-time");
        Result serial = run(args(FAST, "generate", "--prompts", prompts.toString(), "--out-dir", one.toString(),
                "--size", "8"));
        Path many = tmp.resolve("four-at-once");
        Result together = run(args(FAST, "generate", "--json", "--prompts", prompts.toString(), "--out-dir",
                many.toString(), "--size", "8", "--concurrency", "4"));
        assertEquals(1, serial.code(), serial.err());
        assertEquals(1, together.code(), "line c failed: " + together.err());
        assertEquals(List.of("unclip: line 3 (c): prompt: uses a word outside the model's vocabulary: 'dog'"),
                together.errLines());
        for (String id : List.of("a", "b", "d", "e")) {
            assertArrayEquals(Files.readAllBytes(one.resolve(id + ".png")), Files.readAllBytes(many.resolve(id + ".png")),
                    id + ".png alone and with three others in flight");
        }
        // in flight together: a second line started before the first line's result
        List<String> events = together.out().lines().toList();
        int firstResult = indexOf(events, "\"event\":\"result\"");
        long startedBefore = events.subList(0, firstResult).stream().filter(l -> l.contains("\"event\":\"started\""))
                .count();
        assertTrue(startedBefore >= 2, "lines started before the first finished: " + startedBefore + "\n"
                + together.out());
        assertTrue(events.get(events.size() - 1).contains("\"lines\":5,\"done\":4,\"failed\":1"),
                events.get(events.size() - 1));

        assertEquals(2, run(args(FAST, "generate", PROMPT, "--concurrency", "2")).code(),
                "--concurrency is for batch mode");
        Result zero = run(args(FAST, "generate", "--prompts", prompts.toString(), "--out-dir", many.toString(),
                "--concurrency", "0"));
        assertEquals(2, zero.code());
        assertTrue(zero.err().contains("--concurrency: must be between 1 and 256, got 0"), zero.err());
    }

    private static int indexOf(List<String> lines, String part) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(part)) {
                return i;
            }
        }
        throw new AssertionError("no line with " + part + " in " + lines);
    }

    // ---- other commands ----

    @Test
    void variationsInterpolateInpaintCaption() throws IOException {
        Path source = generate("src.png");
        Path other = generate("other.png", "--seed", "7");

        Result v = run(args(FAST_IMAGE, "variations", source.toString(), "-n", "2", "--size", "32", "-o",
                tmp.resolve("var.png").toString()));
        assertEquals(0, v.code(), v.err());
        assertEquals("variations", PngCodec.withDefaultLimits().read(tmp.resolve("var-1.png")).text().get("mode"));

        Result i = run(args(FAST_IMAGE, "interpolate", source.toString(), other.toString(), "--frames", "3",
                "--size", "8", "-o", tmp.resolve("f.png").toString()));
        assertEquals(0, i.code(), i.err());
        assertTrue(Files.exists(tmp.resolve("f-2.png")));
        Result t = run(args(FAST_IMAGE, "interpolate", source.toString(), "--towards", "a large blue square",
                "--frames", "2", "--size", "8", "-o", tmp.resolve("t.png").toString()));
        assertEquals(0, t.code(), t.err());
        assertEquals("a large blue square", PngCodec.withDefaultLimits().read(tmp.resolve("t-1.png")).text()
                .get("towards"));

        Tensor mask = Tensor.zeros(1, 3, 32, 32);
        for (int k = 0; k < mask.size(); k++) {
            int x = k % 32;
            mask.set(k, x >= 16 ? 1f : -1f); // right half white: regenerate
        }
        Path maskFile = tmp.resolve("mask.png");
        PngCodec.withDefaultLimits().write(mask, 0, Map.of(), maskFile);
        Path inpainted = tmp.resolve("inp.png");
        Result p = run(args(FAST, "inpaint", source.toString(), "--mask", maskFile.toString(),
                "a blue square at the right", "--size", "32", "-o", inpainted.toString()));
        assertEquals(0, p.code(), p.err());
        Tensor before = PngCodec.withDefaultLimits().read(source).pixels();
        Tensor after = PngCodec.withDefaultLimits().read(inpainted).pixels();
        for (int k = 0; k < before.size(); k++) {
            if (k % 32 < 16) {
                assertEquals(before.get(k), after.get(k), 1e-6, "kept pixel " + k);
            }
        }

        Result c = run("caption", source.toString(), "--models", BUNDLE, "--style", "descriptive", "--max-tokens",
                "4");
        assertEquals(0, c.code(), c.err());
        assertEquals(1, c.out().lines().count(), c.out());
        assertFalse(c.out().isBlank());
    }

    @Test
    void modelsCheck() {
        Result r = run("models", "check", BUNDLE);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("bundle tiny 1.0.0"), r.out());
        assertTrue(r.out().contains("sizes: 8, 32, 128"), r.out());
        assertTrue(r.out().contains("stage upsampler_128 (upsampler)"), r.out());
        assertTrue(r.out().contains("low-res image: bilinear resize"), r.out());
        assertTrue(r.out().contains("caption styles: short [SHORT], descriptive [DESC]"), r.out());
        assertTrue(r.out().contains("defaults: ddim, ddim25 (25 steps), eta 0, guidance 4, clip none, best of 2"),
                r.out());
        Result json = run("models", "check", BUNDLE, "--json");
        assertEquals(0, json.code());
        assertTrue(json.out().startsWith("{\"event\":\"bundle\",\"bundle\":\"tiny\""), json.out());
    }

    // ---- errors: one line, exit status, no stack trace ----

    @Test
    void badInputIsOneLineAndExitTwo() throws IOException {
        assertOneLine(2, "unclip: prompt: must not be empty", run(args(FAST, "generate", "")));
        assertOneLine(2, "unclip: prompt: is 300 characters long, the limit is 256",
                run(args(FAST, "generate", "a".repeat(300))));
        assertOneLine(2, "unclip: prompt: uses words outside the model's vocabulary: 'dog', 'cat'",
                run(args(FAST, "generate", "a dog and a cat")));
        assertOneLine(2, "unclip: -n: must be between 1 and 8, got 9", run(args(FAST, "generate", PROMPT, "-n", "9")));
        assertOneLine(2, "unclip: --size: 64 is not a size this bundle makes; it makes 8, 32, 128",
                run(args(FAST, "generate", PROMPT, "--size", "64")));
        Result seed = run(args(FAST, "generate", PROMPT, "--seed", "x1"));
        assertEquals(2, seed.code());
        assertTrue(seed.err().startsWith("Invalid value for option '--seed': 'x1' is not a seed (an integer from 0 to"
                + " 18446744073709551615)"), seed.err());
        assertOneLine(2, "unclip: --decoder-guidance: must be in [0, 50], got 99.0",
                run(args(FAST, "generate", PROMPT, "--decoder-guidance", "99")));
        assertOneLine(2, "unclip: --classifier-guidance: must be in [0, 100], got 101.0",
                run(args(FAST, "generate", PROMPT, "--classifier-guidance", "101")));
        assertOneLine(2, "unclip: --classifier-guidance: the model bundle has no classifier stage",
                run(args(FAST, "generate", PROMPT, "--classifier-guidance", "2")));
        assertOneLine(2, "unclip: --eta: applies to the ddim sampler only (this run uses ddpm)",
                run(args(FAST, "generate", PROMPT, "--eta", "0.2")));
        assertOneLine(2, "unclip: --frames: must be between 2 and 32, got 1",
                run(args(FAST_IMAGE, "interpolate", generate("i.png").toString(), "--towards", "a red circle",
                        "--frames", "1")));
        Path missing = tmp.resolve("nope.png");
        assertOneLine(2, "unclip: cannot read image " + missing + ": no such file",
                run("caption", missing.toString(), "--models", BUNDLE));
        Path text = tmp.resolve("text.png");
        Files.writeString(text, "hello");
        assertOneLine(2, "unclip: image " + text + ": not a PNG image", run("caption", text.toString(), "--models",
                BUNDLE));
        Path bomb = tmp.resolve("bomb.png");
        Files.write(bomb, pngHeader(100_000, 100_000));
        assertOneLine(2, "unclip: image " + bomb + ": PNG is 100000x100000 (10000000000 pixels), limit is 4096x4096"
                + " and 16777216 pixels", run("variations", bomb.toString(), "--models", BUNDLE));
        // picocli's own usage errors: non-zero, no stack trace
        Result usage = run(args(FAST, "generate", PROMPT, "-n", "many"));
        assertEquals(2, usage.code());
        assertTrue(usage.err().startsWith("Invalid value for option '--num-images': 'many' is not an int"),
                usage.err());
        assertFalse(usage.err().contains("\tat "));
    }

    @Test
    void aTruncatedPngIsBadInput() throws IOException {
        byte[] png = DistributedCommandsTest.goodPng();
        Path truncated = tmp.resolve("truncated.png");
        Files.write(truncated, Arrays.copyOf(png, png.length / 2));
        for (String command : List.of("caption", "variations")) {
            Result r = run(command, truncated.toString(), "--models", BUNDLE);
            assertEquals(2, r.code(), command + ": " + r.err());
            assertEquals(1, r.errLines().size(), command + ": " + r.err());
            assertTrue(r.err().startsWith("unclip: image " + truncated + ": "), r.err());
        }
        Result i = run(args(FAST_IMAGE, "interpolate", truncated.toString(), "--towards", "a red circle"));
        assertEquals(2, i.code(), i.err());
        assertEquals(1, i.errLines().size(), i.err());
    }

    @Test
    void bundleProblemsAreExitThree(@TempDir Path work) throws IOException {
        Environment empty = new Environment(Map.of(), work, Optional.empty(), false);
        assertOneLine(3, "unclip: no model bundle at models/bundle (the demo bundle is trained by models/training;"
                + " use --models DIR)", run(new UnclipCommand(empty), "generate", PROMPT));
        assertOneLine(3, "unclip: no model bundle at models/bundle (the demo bundle is trained by models/training;"
                + " use --models DIR)", run(new UnclipCommand(empty), "models", "check"));
        assertOneLine(3, "unclip: no model bundle at /no/such/dir", run("generate", PROMPT, "--models",
                "/no/such/dir"));
        Environment viaEnv = new Environment(Map.of("UNCLIP_MODELS", "elsewhere"), work, Optional.empty(), false);
        assertOneLine(3, "unclip: no model bundle at elsewhere (from UNCLIP_MODELS; use --models DIR)",
                run(new UnclipCommand(viaEnv), "generate", PROMPT));

        // the default location relative to the working directory, and a broken manifest there
        Path bundle = work.resolve("models/bundle");
        copyTree(Path.of(BUNDLE), bundle);
        Result ok = run(new UnclipCommand(empty), "models", "check");
        assertEquals(0, ok.code(), ok.err());
        Path decoder = bundle.resolve("decoder/manifest.json");
        Files.writeString(decoder, Files.readString(decoder).replace("\"squaredcos_cap_v2\"", "\"cosin\""));
        assertOneLine(3, "unclip: invalid model bundle: decoder/manifest.json: field 'diffusion.schedule' is 'cosin',"
                + " expected one of linear, cosine, squaredcos_cap_v2",
                run(new UnclipCommand(empty), "generate", PROMPT, "-o", work.resolve("x.png").toString()));
    }

    @Test
    void debugShowsTheStackTrace() {
        Result r = run("generate", PROMPT, "--models", "/no/such/dir", "--debug");
        assertEquals(3, r.code());
        assertTrue(r.err().startsWith("unclip: no model bundle at /no/such/dir\n"), r.err());
        assertTrue(r.err().contains("\tat io.unclip.cli."), r.err());
    }

    @Test
    void mainStyleUsageErrorsAreOneLine() {
        CommandLine cl = UnclipCommand.commandLine(new UnclipCommand());
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        cl.setOut(new PrintWriter(new StringWriter(), true));
        assertEquals(2, cl.execute("generate", PROMPT, "--bogus"));
        assertEquals("unclip: Unknown option: '--bogus' (see 'unclip generate --help')", err.toString().strip());
    }

    private static void assertOneLine(int code, String message, Result r) {
        assertEquals(code, r.code(), r.err());
        assertEquals(List.of(message), r.errLines(), "stderr");
    }

    /** A PNG signature and IHDR chunk (valid CRC) declaring a huge image, and nothing else. */
    private static byte[] pngHeader(int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        b.putInt(13);
        b.put(new byte[] {'I', 'H', 'D', 'R'});
        b.putInt(width).putInt(height).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(b.array(), 12, 17);
        b.putInt((int) crc.getValue());
        return b.array();
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    @Test
    void shellCompletionCoversEveryCommandAndItsOptions() {
        Result r = run("generate-completion");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().startsWith("#!/usr/bin/env bash"), r.out().substring(0, Math.min(200, r.out().length())));
        for (String word : List.of("generate", "stream", "stack", "keys", "--api-key-file", "--secure", "--ca")) {
            assertTrue(r.out().contains(word), word);
        }
    }
}
