package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unclip.engine.image.PngCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code unclip load} on the tiny bundle: its report, its images, its cost model, its refusals. */
class LoadCommandTest {
    private static final String BUNDLE = System.getProperty("unclip.tiny.bundle",
            "../engine/src/test/resources/bundles/tiny");
    private static final String[] FAST = {"--models", BUNDLE, "--size", "32", "--prior-steps", "2",
        "--decoder-steps", "4", "--sr-steps", "2", "--threads", "1", "--warmup", "0", "--json"};

    @TempDir
    Path tmp;

    private static JsonNode report(UnclipCommandTest.Result r) throws Exception {
        List<String> lines = r.out().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), "one JSON object: " + r.out());
        JsonNode n = new ObjectMapper().readTree(lines.get(0));
        assertEquals("load", n.get("event").asText());
        return n;
    }

    private Path prompts() throws Exception {
        Path p = tmp.resolve("p.jsonl");
        Files.writeString(p, "{\"prompt\": \"a small red circle at the top left\"}\n"
                + "{\"prompt\": \"a blue square\"}\n{\"prompt\": \"a green circle\", \"seed\": 77}\n",
                StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void closedLoopReportsItsFiguresAndEveryImageIsTheOneGenerateMakesAlone() throws Exception {
        Path out = tmp.resolve("out");
        UnclipCommandTest.Result r = UnclipCommandTest.run(UnclipCommandTest.args(FAST, "load", "--requests", "6",
                "--concurrency", "3", "--seed", "40", "--prompts", prompts().toString(), "--out-dir", out.toString(),
                "--baseline", "--preview-interval", "1"));
        assertEquals(0, r.code(), r.err());
        JsonNode n = report(r);
        assertEquals(6, n.get("completed").asInt(), n.toString());
        assertEquals(0, n.get("failed").asInt());
        for (String f : new String[] {"throughput_images_per_s", "p50_ms", "p95_ms", "p99_ms", "first_preview_p50_ms",
            "baseline_throughput_images_per_s", "speedup", "baseline_fifo_p95_ms"}) {
            assertTrue(n.get(f).asDouble() > 0, f + " in " + n);
        }
        assertTrue(n.get("p50_ms").asDouble() <= n.get("p95_ms").asDouble());
        assertTrue(n.get("first_preview_p50_ms").asDouble() < n.get("p50_ms").asDouble());
        for (String stage : new String[] {"prior", "decoder", "upsampler_32"}) {
            assertTrue(n.get("mean_batch_rows").get(stage).asDouble() >= 1, stage + " in " + n);
        }
        // request i: line i mod 3 of the file, seed 40 + i unless the line has one
        String[] prompts = {"a small red circle at the top left", "a blue square", "a green circle"};
        PngCodec png = PngCodec.withDefaultLimits();
        for (int i : new int[] {0, 4, 5}) {
            Path alone = tmp.resolve("alone-" + i + ".png");
            String seed = i % 3 == 2 ? "77" : Long.toString(40 + i);
            UnclipCommandTest.Result g = UnclipCommandTest.run("generate", prompts[i % 3], "--models", BUNDLE,
                    "--size", "32", "--prior-steps", "2", "--decoder-steps", "4", "--sr-steps", "2", "--threads", "1",
                    "--seed", seed, "-o", alone.toString());
            assertEquals(0, g.code(), g.err());
            assertArrayEquals(png.read(alone).pixels().toArray(), png.read(out.resolve(i + ".png")).pixels().toArray(),
                    "request " + i + " under load is the image generate makes alone");
        }
    }

    @Test
    void openLoopSendsEveryRequest() throws Exception {
        UnclipCommandTest.Result r = UnclipCommandTest.run(UnclipCommandTest.args(FAST, "load", "--requests", "5",
                "--rate", "50", "--prompts", prompts().toString()));
        assertEquals(0, r.code(), r.err());
        JsonNode n = report(r);
        assertEquals("open", n.get("mode").asText());
        assertEquals(5, n.get("completed").asInt(), n.toString());
    }

    @Test
    void aCostCurveStandsInForTheModelsAndGivesTheIdealSpeedup() throws Exception {
        Path curve = tmp.resolve("curve.jsonl");
        StringBuilder c = new StringBuilder("{\"runtime\": \"other\", \"stage\": \"decoder\", \"batch\": 1,"
                + " \"ms_per_call\": 100}\n");
        for (String stage : new String[] {"text_encoder", "prior", "decoder", "upsampler_32"}) {
            c.append("{\"runtime\": \"gpu\", \"stage\": \"").append(stage).append("\", \"batch\": 1, \"ms_per_call\": 2}\n");
            c.append("{\"runtime\": \"gpu\", \"stage\": \"").append(stage).append("\", \"batch\": 64, \"ms_per_call\": 3}\n");
        }
        Files.writeString(curve, c.toString(), StandardCharsets.UTF_8);
        UnclipCommandTest.Result r = UnclipCommandTest.run(UnclipCommandTest.args(FAST, "load", "--requests", "8",
                "--concurrency", "4", "--prompts", prompts().toString(), "--baseline", "--cost-curve",
                curve.toString(), "--cost-runtime", "gpu"));
        assertEquals(0, r.code(), r.err());
        JsonNode n = report(r);
        assertEquals("gpu", n.get("cost_runtime").asText());
        double ideal = n.get("ideal_speedup").asDouble();
        assertTrue(ideal > 2 && ideal <= 4, "4 in lockstep, each call 2..3 ms: " + n);
        assertEquals(n.get("speedup").asDouble() / ideal, n.get("efficiency").asDouble(), 0.01);
        assertTrue(n.get("device_busy").asDouble() > 0 && n.get("device_busy").asDouble() <= 1.0, n.toString());
        double text = n.get("baseline_calls_per_request").get("text_encoder").asDouble();
        assertTrue(text >= 1 && text <= 2, "the prompt's call, and the empty prompt's until cached: " + n);
    }

    @Test
    void badOptionsAreRefusedWithOneLine() throws Exception {
        UnclipCommandTest.Result both = UnclipCommandTest.run("load", "--models", BUNDLE, "--concurrency", "2",
                "--rate", "3");
        assertEquals(ExitCodes.BAD_INPUT, both.code());
        assertEquals(List.of("unclip: give --concurrency (closed loop) or --rate (open loop), not both"),
                both.errLines());
        Path curve = tmp.resolve("c.jsonl");
        Files.writeString(curve, "{\"runtime\": \"a\", \"stage\": \"decoder\", \"batch\": 1, \"ms_per_call\": 1}\n");
        UnclipCommandTest.Result runtime = UnclipCommandTest.run("load", "--models", BUNDLE, "--cost-curve",
                curve.toString(), "--cost-runtime", "b");
        assertEquals(ExitCodes.BAD_INPUT, runtime.code());
        assertTrue(runtime.err().contains("no cost curve for runtime 'b' in c.jsonl; it has [a]"), runtime.err());
        UnclipCommandTest.Result rows = UnclipCommandTest.run("load", "--models", BUNDLE, "--max-rows", "0");
        assertEquals(ExitCodes.BAD_INPUT, rows.code());
        assertTrue(rows.err().contains("max rows must be >= 1"), rows.err());
    }
}
