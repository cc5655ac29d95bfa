package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.image.PngCodec;
import io.unclip.engine.tensor.Tensor;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** unclip stack / stream without a running stack: usage errors, empty state, unreachable gateway. */
class DistributedCommandsTest {
    private static final String BUNDLE = System.getProperty("unclip.tiny.bundle",
            "../engine/src/test/resources/bundles/tiny");

    @TempDir
    Path tmp;

    private UnclipCommandTest.Result run(String... args) {
        return UnclipCommandTest.runIn(tmp, args);
    }

    private void oneLineError(UnclipCommandTest.Result r, int code, String contains) {
        assertEquals(code, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("unclip: "), r.err());
        assertTrue(r.err().contains(contains), r.err());
    }

    @Test
    void statusWithAnEmptyStateDirSaysNothingIsRunning() {
        UnclipCommandTest.Result r = run("stack", "status", "--state-dir", tmp.resolve("state").toString());
        assertEquals(ExitCodes.OK, r.code(), r.toString());
        assertTrue(r.out().contains("no stack running"), r.out());
        assertEquals("", r.err());

        UnclipCommandTest.Result d = run("stack", "status");
        assertEquals(ExitCodes.OK, d.code(), d.toString());
        assertTrue(d.out().contains("no stack running") && d.out().contains(".unclip"), d.out());

        UnclipCommandTest.Result j = run("stack", "status", "--json");
        assertTrue(j.out().contains("\"event\":\"stack_status\"") && j.out().contains("\"running\":false"), j.out());
    }

    @Test
    void downWithNothingRunningIsFine() {
        UnclipCommandTest.Result r = run("stack", "down", "--state-dir", tmp.resolve("state").toString());
        assertEquals(ExitCodes.OK, r.code(), r.toString());
        assertTrue(r.out().contains("no stack running"), r.out());
    }

    @Test
    void stackUsageErrorsAreOneLine() {
        oneLineError(run("stack"), ExitCodes.BAD_INPUT, "Missing required subcommand");
        oneLineError(run("stack", "sideways"), ExitCodes.BAD_INPUT, "sideways");
        oneLineError(run("stack", "up", "--replicas", "decoder"), ExitCodes.BAD_INPUT, "SERVICE=N");
        oneLineError(run("stack", "up", "--replicas", "painter=2"), ExitCodes.BAD_INPUT, "unknown service 'painter'");
        oneLineError(run("stack", "up", "--replicas", "decoder=x"), ExitCodes.BAD_INPUT, "not a number");
        oneLineError(run("stack", "up", "--replicas", "decoder=0"), ExitCodes.BAD_INPUT, "between 1 and 64");
        oneLineError(run("stack", "up", "--gateway-port", "70000"), ExitCodes.BAD_INPUT, "--gateway-port");
        oneLineError(run("stack", "up", "--partitions", "0"), ExitCodes.BAD_INPUT, "--partitions");
    }

    @Test
    void restartWithoutAStackIsOneLine() {
        oneLineError(run("stack", "restart"), ExitCodes.BAD_INPUT, "NAME");
        oneLineError(run("stack", "restart", "decoder-1", "--state-dir", tmp.resolve("state").toString()),
                ExitCodes.BAD_INPUT, "no stack at");
        oneLineError(run("stack", "restart", "decoder-1", "--timeout", "0"), ExitCodes.BAD_INPUT, "--timeout");
    }

    @Test
    void scaleWithoutAStackIsOneLine() {
        oneLineError(run("stack", "scale"), ExitCodes.BAD_INPUT, "SERVICE=N");
        oneLineError(run("stack", "scale", "decoder"), ExitCodes.BAD_INPUT, "SERVICE=N");
        oneLineError(run("stack", "scale", "painter=2"), ExitCodes.BAD_INPUT, "unknown service 'painter'");
        oneLineError(run("stack", "scale", "decoder=3", "--state-dir", tmp.resolve("state").toString()),
                ExitCodes.BAD_INPUT, "no stack at");
    }

    @Test
    void upWithoutABuiltRepositoryFailsInOneLine() {
        // tmp is no repository: nothing is built, so LocalStack refuses before starting anything
        UnclipCommandTest.Result r = run("stack", "up", "--state-dir", tmp.resolve("state").toString());
        assertEquals(ExitCodes.FAILED, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("unclip: not built: "), r.err());
    }

    @Test
    void streamBadOptionsAreOneLine() {
        oneLineError(run("stream"), ExitCodes.BAD_INPUT, "PROMPT");
        oneLineError(run("stream", "x", "--gateway", "localhost"), ExitCodes.BAD_INPUT, "HOST:PORT");
        oneLineError(run("stream", "x", "--gateway", "localhost:http"), ExitCodes.BAD_INPUT, "not a port");
        oneLineError(run("stream", "x", "--gateway", "localhost:0"), ExitCodes.BAD_INPUT, "between 1 and 65535");
        oneLineError(run("stream", "x", "--gateway", ":8080"), ExitCodes.BAD_INPUT, "HOST:PORT");
        oneLineError(run("stream", "x", "-n", "0"), ExitCodes.BAD_INPUT, "-n");
        oneLineError(run("stream", "x", "--size", "-3"), ExitCodes.BAD_INPUT, "--size");
        oneLineError(run("stream", "  "), ExitCodes.BAD_INPUT, "PROMPT");
        oneLineError(run("stream", "x", "--seed", "abc"), ExitCodes.BAD_INPUT, "--seed");
        String none = tmp.resolve("none.png").toString();
        oneLineError(run("stream", "--variations", none, "--interpolate", none, none), ExitCodes.BAD_INPUT,
                "choose one");
        oneLineError(run("stream", "x", "--interpolate", none, none), ExitCodes.BAD_INPUT, "takes no PROMPT");
        oneLineError(run("stream", "--interpolate", none, none, "--frames", "1"), ExitCodes.BAD_INPUT, "--frames");
        oneLineError(run("stream", "--variations", none, "--gateway", "localhost:1"), ExitCodes.BAD_INPUT,
                "none.png: no such file");
    }

    @Test
    void streamAgainstAnUnreachableGatewayFailsCleanlyAndQuickly() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        Path out = tmp.resolve("s.png");
        long t0 = System.nanoTime();
        UnclipCommandTest.Result r = run("stream", "a small red circle", "--gateway", "127.0.0.1:" + port, "--connect-timeout", "2",
                "--timeout", "10", "-o", out.toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds < 15, "took " + seconds + " s");
        assertEquals(ExitCodes.FAILED, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("unclip: gateway 127.0.0.1:" + port + ": UNAVAILABLE"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void loadTargetOptionsAreCheckedAndAnUnreachableGatewayFailsEveryRequestInPlainWords() throws Exception {
        oneLineError(run("load", "--target", "nowhere"), ExitCodes.BAD_INPUT, "--target: wants HOST:PORT");
        oneLineError(run("load", "--target", "localhost:8080", "--cost-curve", "c.jsonl"), ExitCodes.BAD_INPUT,
                "--cost-curve is for the embedded cascade, not with --target");
        oneLineError(run("load", "--target", "localhost:8080", "--max-rows", "8"), ExitCodes.BAD_INPUT,
                "--max-rows is for the embedded cascade");
        int port = closedPort();
        long t0 = System.nanoTime();
        UnclipCommandTest.Result r = run("load", "--target", "127.0.0.1:" + port, "--connect-timeout", "2",
                "--requests", "3", "--concurrency", "3", "--warmup", "0", "--size", "32", "--json");
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds < 30, "took " + seconds + " s");
        assertEquals(ExitCodes.FAILED, r.code(), r.toString());
        assertTrue(r.out().contains("\"failed\":3") && r.out().contains("UNAVAILABLE"), r.out());
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void submitBadInputIsOneLine() throws Exception {
        oneLineError(run("submit", tmp.resolve("none.jsonl").toString()), ExitCodes.BAD_INPUT, "no such file");
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"job_id\": \"a\", \"prompt\": \"x\"}\n{not json\n");
        oneLineError(run("submit", bad.toString()), ExitCodes.BAD_INPUT, "bad.jsonl:2: not JSON");
        Files.writeString(bad, "[1, 2]\n");
        oneLineError(run("submit", bad.toString()), ExitCodes.BAD_INPUT, "bad.jsonl:1: not a JSON object");
        Files.writeString(bad, "{\"job_id\": 7}\n");
        oneLineError(run("submit", bad.toString()), ExitCodes.BAD_INPUT, "bad.jsonl:1: job_id: is required (a string)");
        Files.writeString(bad, "\n\n");
        oneLineError(run("submit", bad.toString()), ExitCodes.BAD_INPUT, "no jobs");
        Files.writeString(bad, "{\"prompt\": \"x\"}\n");
        oneLineError(run("submit", bad.toString(), "--bootstrap", "localhost"), ExitCodes.BAD_INPUT, "HOST:PORT");
        Path png = tmp.resolve("a.png");
        Files.write(png, new byte[] {(byte) 0x89, 'P', 'N', 'G'});
        oneLineError(run("submit", bad.toString(), "--caption", png.toString()), ExitCodes.BAD_INPUT, "not both");
        oneLineError(run("submit"), ExitCodes.BAD_INPUT, "not neither");
        oneLineError(run("submit", "--caption", tmp.resolve("none.png").toString()), ExitCodes.BAD_INPUT,
                "none.png: no such file");
        oneLineError(run("submit", "--caption", png.toString(), "--style", "poetic"), ExitCodes.BAD_INPUT,
                "--style: must be short or descriptive");
        oneLineError(run("results", "--bootstrap", "localhost:x"), ExitCodes.BAD_INPUT, "not a port");
        oneLineError(run("results", "--timeout", "0"), ExitCodes.BAD_INPUT, "--timeout");
    }

    @Test
    void submitAndResultsAgainstAnUnreachableBrokerFailCleanly() throws Exception {
        Path jobs = tmp.resolve("jobs.jsonl");
        Files.writeString(jobs, "{\"prompt\": \"a small red circle\"}\n");
        String broker = "127.0.0.1:" + closedPort();
        long t0 = System.nanoTime();
        UnclipCommandTest.Result s = run("submit", jobs.toString(), "--bootstrap", broker, "--connect-timeout", "2");
        oneLineError(s, ExitCodes.FAILED, "kafka " + broker + ": ");
        UnclipCommandTest.Result r = run("results", "--bootstrap", broker, "--connect-timeout", "2", "--timeout", "3");
        oneLineError(r, ExitCodes.FAILED, "kafka " + broker + ": ");
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds < 30, "took " + seconds + " s");
    }

    @Test
    void submitChecksEveryLineBeforeConnecting() throws Exception {
        Path jobs = tmp.resolve("jobs.jsonl");
        Files.writeString(jobs, String.join("\n",
                "{\"job_id\": \"ok-1\", \"prompt\": \"a small red circle\"}",
                "{\"job_id\": \"../../tmp/x\", \"prompt\": \"a small red circle\"}",
                "{\"prompt\": \"a small red circle\", \"size\": 33}",
                "",
                "{\"prompt\": \"a small red circle\", \"seed\": \"abc\"}",
                "{\"prompt\": \"a dog and a cat\"}",
                "{\"prompt\": \"a small red circle\", \"size\": 64}",
                "{\"prompt\": \"a small red circle\", \"decoder\": {\"guidance_scale\": 99}}",
                "{\"job_id\": \"cap-1\", \"type\": \"caption\", \"image\": \"aGVsbG8=\"}",
                "{\"job_id\": \"ok-2\", \"prompt\": \"a blue square\", \"seed\": 7}") + "\n");
        String broker = "127.0.0.1:" + closedPort();
        UnclipCommandTest.Result r = run("submit", jobs.toString(), "--models", BUNDLE, "--bootstrap", broker, "--connect-timeout", "2");
        assertEquals(ExitCodes.BAD_INPUT, r.code(), r.toString());
        List<String> e = r.errLines();
        assertEquals(7, e.size(), r.err());
        assertTrue(e.get(0).startsWith("unclip: " + jobs + ":2: job_id: must be 1..64"), e.get(0));
        assertTrue(e.get(1).startsWith("unclip: " + jobs + ":3: size: must be 0 (default) or a power of two"),
                e.get(1));
        assertTrue(e.get(2).startsWith("unclip: " + jobs + ":5: seed: must be an integer"), e.get(2));
        assertEquals("unclip: " + jobs + ":6: prompt: uses words outside the model's vocabulary: 'dog', 'cat'",
                e.get(3));
        assertEquals("unclip: " + jobs + ":7: size: 64 is not a size this bundle makes; it makes 8, 32, 128", e.get(4));
        assertTrue(e.get(5).startsWith("unclip: " + jobs + ":8: decoder.guidance_scale: must be in"), e.get(5));
        assertTrue(e.get(6).startsWith("unclip: " + jobs + ":9: image: "), e.get(6));
        assertFalse(r.err().contains("kafka"), "nothing is sent: " + r.err());
        assertEquals("", r.out());

        // --skip-bad: the same reports, then the good lines go to the broker (absent here: exit 1)
        UnclipCommandTest.Result skip = run("submit", jobs.toString(), "--skip-bad", "--models", BUNDLE, "--bootstrap", broker,
                "--connect-timeout", "2");
        assertEquals(ExitCodes.FAILED, skip.code(), skip.toString());
        assertEquals(8, skip.errLines().size(), skip.err());
        assertEquals(e, skip.errLines().subList(0, 7));
        assertTrue(skip.errLines().get(7).startsWith("unclip: kafka " + broker + ": "), skip.err());

        // nothing good to send
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"prompt\": \"a small red circle\", \"size\": 33}\n");
        UnclipCommandTest.Result none = run("submit", bad.toString(), "--skip-bad", "--models", BUNDLE, "--bootstrap", broker);
        assertEquals(ExitCodes.BAD_INPUT, none.code(), none.toString());
        assertEquals(2, none.errLines().size(), none.err());
        assertTrue(none.errLines().get(1).contains("no good jobs"), none.err());
    }

    @Test
    void submitCaptionChecksTheImagesBeforeConnecting() throws Exception {
        String broker = "127.0.0.1:" + closedPort();
        Path bomb = tmp.resolve("bomb.png");
        Files.write(bomb, pngHeader(100_000, 100_000));
        oneLineError(run("submit", "--caption", bomb.toString(), "--bootstrap", broker), ExitCodes.BAD_INPUT,
                bomb + ": image: image is 100000x100000; at most 16384 pixels per side");
        Path garbage = tmp.resolve("photo.jpg");
        Files.write(garbage, new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0x12, 0x34, 0x56, 0x78, 0x00});
        UnclipCommandTest.Result g = run("submit", "--caption", garbage.toString(), "--bootstrap", broker);
        oneLineError(g, ExitCodes.BAD_INPUT, garbage + ": image: ");
        Path text = tmp.resolve("notes.jpg");
        Files.writeString(text, "hello, not an image");
        oneLineError(run("submit", "--caption", text.toString(), "--bootstrap", broker), ExitCodes.BAD_INPUT,
                text + ": image: ");
        // a JPEG whose header passes (so only decoding it finds the fault): cut before its scan data
        java.io.ByteArrayOutputStream jpeg = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB),
                "jpg", jpeg);
        byte[] j = jpeg.toByteArray();
        int scan = 2;
        while ((j[scan] & 0xFF) != 0xFF || (j[scan + 1] & 0xFF) != 0xDA) {
            scan++;
        }
        Path headerOnly = tmp.resolve("header-only.jpg");
        Files.write(headerOnly, java.util.Arrays.copyOf(j, scan));
        oneLineError(run("submit", "--caption", headerOnly.toString(), "--bootstrap", broker), ExitCodes.BAD_INPUT,
                headerOnly + ": image: cannot decode the image");
        Path truncated = truncatedPng();
        UnclipCommandTest.Result t = run("submit", "--caption", truncated.toString(), "--bootstrap", broker);
        oneLineError(t, ExitCodes.BAD_INPUT, truncated + ": image: ");
        for (UnclipCommandTest.Result r : List.of(g, t)) {
            assertFalse(r.err().contains("kafka"), r.err());
        }
        // a good image and a bad one: nothing sent, the bad one named
        Path good = tmp.resolve("good.png");
        Files.write(good, goodPng());
        oneLineError(run("submit", "--caption", good.toString(), truncated.toString(), "--bootstrap", broker),
                ExitCodes.BAD_INPUT, truncated + ": image: ");
    }

    @Test
    void streamChecksImagesBeforeConnecting() throws Exception {
        Path truncated = truncatedPng();
        Path good = tmp.resolve("good.png");
        Files.write(good, goodPng());
        // the gateway address is never dialled: a bad image is reported first
        String gateway = "127.0.0.1:" + closedPort();
        oneLineError(run("stream", "--variations", truncated.toString(), "--gateway", gateway), ExitCodes.BAD_INPUT,
                "--variations " + truncated + ": ");
        oneLineError(run("stream", "--interpolate", good.toString(), truncated.toString(), "--gateway", gateway),
                ExitCodes.BAD_INPUT, "--interpolate " + truncated + ": ");
        Path bomb = tmp.resolve("bomb.png");
        Files.write(bomb, pngHeader(100_000, 100_000));
        oneLineError(run("stream", "--variations", bomb.toString(), "--gateway", gateway), ExitCodes.BAD_INPUT,
                "image is 100000x100000");
        // a good image gets as far as the (absent) gateway
        oneLineError(run("stream", "--variations", good.toString(), "--gateway", gateway, "--connect-timeout", "2"),
                ExitCodes.FAILED, "gateway " + gateway + ": UNAVAILABLE");
    }

    /** A valid 32x32 PNG of noise (so its pixel data does not compress to nothing). */
    static byte[] goodPng() {
        Tensor t = Tensor.zeros(1, 3, 32, 32);
        java.util.Random random = new java.util.Random(1);
        for (int k = 0; k < t.size(); k++) {
            t.set(k, random.nextFloat() * 2 - 1);
        }
        return PngCodec.withDefaultLimits().encode(t, 0, Map.of());
    }

    /** The first half of a valid PNG. */
    private Path truncatedPng() throws Exception {
        byte[] png = goodPng();
        Path p = tmp.resolve("truncated.png");
        Files.write(p, java.util.Arrays.copyOf(png, png.length / 2));
        return p;
    }

    /** A PNG signature and IHDR chunk (valid CRC) declaring a huge image, and nothing else. */
    static byte[] pngHeader(int width, int height) {
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
}
