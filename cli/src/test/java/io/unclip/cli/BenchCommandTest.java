package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unclip.cli.bench.TorchReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code unclip bench} on the tiny bundle: every stage reported, ORT time within wall time. */
class BenchCommandTest {
    private static final String BUNDLE = System.getProperty("unclip.tiny.bundle",
            "../engine/src/test/resources/bundles/tiny");

    @Test
    void reportsEveryStageWithOrtTimeInsideWallTime() throws Exception {
        UnclipCommandTest.Result r = UnclipCommandTest.run("bench", "--models", BUNDLE, "--json", "-k", "2",
                "--warmup", "0", "--size", "32", "--prior-steps", "2", "--decoder-steps", "3", "--sr-steps", "2",
                "--threads", "1");
        assertEquals(0, r.code(), r.err());
        ObjectMapper json = new ObjectMapper();
        List<String> stages = new ArrayList<>();
        JsonNode total = null;
        for (String line : r.out().split("\n")) {
            JsonNode e = json.readTree(line);
            if ("bench_stage".equals(e.path("event").asText())) {
                stages.add(e.get("stage").asText());
                double wall = e.get("wall_ms").asDouble();
                double ort = e.get("onnx_ms").asDouble();
                assertTrue(ort > 0 && ort <= wall, line);
            } else if ("bench_total".equals(e.path("event").asText())) {
                total = e;
            }
        }
        assertEquals(List.of("text_encoder", "prior", "decoder", "upsampler_32"), stages);
        assertTrue(total != null && total.get("runs").asInt() == 2, r.out());
    }

    private static final String[] FAST = {"-k", "1", "--warmup", "0", "--size", "32", "--prior-steps", "2",
        "--decoder-steps", "3", "--sr-steps", "2", "--threads", "1"};

    private static String[] bench(String... more) {
        return UnclipCommandTest.args(FAST, UnclipCommandTest.args(more, "bench"));
    }

    @Test
    void withoutPythonTheSideBySideIsSkippedWithOneLineAndTheJavaPartSucceeds() {
        UnclipCommandTest.Result r = UnclipCommandTest.run(bench("--models", BUNDLE, "--torch", "--python",
                "/nonexistent/python3"));
        assertEquals(0, r.code(), r.err());
        List<String> skipped = r.out().lines().filter(l -> l.contains("side-by-side with PyTorch skipped")).toList();
        assertEquals(1, skipped.size(), r.out());
        assertTrue(skipped.get(0).contains("/nonexistent/python3 not found"), skipped.get(0));
        assertTrue(r.out().contains("all stages"), "the Java table is still there: " + r.out());
    }

    @Test
    void aPythonWithoutTorchIsASkipWithTheReasonInJson() throws Exception {
        // `false` (a bare name, found on PATH) stands for a python whose "import torch, onnx" fails
        assumeTrue(java.nio.file.Files.isExecutable(Path.of("/bin/false"))
                || java.nio.file.Files.isExecutable(Path.of("/usr/bin/false")));
        UnclipCommandTest.Result r = UnclipCommandTest.run(bench("--models", BUNDLE, "--json", "--torch",
                "--python", "false"));
        assertEquals(0, r.code(), r.err());
        ObjectMapper json = new ObjectMapper();
        JsonNode skip = null;
        for (String line : r.out().split("\n")) {
            JsonNode e = json.readTree(line);
            if ("bench_torch_skipped".equals(e.path("event").asText())) {
                skip = e;
            }
        }
        assertTrue(skip != null, r.out());
        assertTrue(skip.get("reason").asText().matches("/.*/false cannot import torch and onnx.*"), skip.toString());
    }

    @Test
    void theReferenceGetsTheSameWorkAsTheJavaRun() {
        BenchCommand b = new BenchCommand();
        new CommandLine(b).parseArgs("a red circle", "-k", "4", "--warmup", "2", "-n", "3", "--candidates", "1",
                "--size", "128", "--prior-steps", "7", "--prior-guidance", "1.5", "--decoder-steps", "9",
                "--decoder-guidance", "4", "--sampler", "DDIM", "--eta", "0.5", "--sr-steps", "2", "--threads", "3");
        Map<String, String> flags = flags(b.referenceArgs(Path.of("/b")));
        assertEquals(new TreeMap<>(Map.ofEntries(Map.entry("--bundle", "/b"), Map.entry("--prompt", "a red circle"),
                Map.entry("--runs", "4"), Map.entry("--warmup", "2"), Map.entry("--num-images", "3"),
                Map.entry("--candidates", "1"), Map.entry("--threads", "3"), Map.entry("--size", "128"),
                Map.entry("--prior-steps", "7"), Map.entry("--prior-guidance", "1.5"),
                Map.entry("--decoder-steps", "9"), Map.entry("--decoder-guidance", "4.0"),
                Map.entry("--sampler", "ddim"), Map.entry("--eta", "0.5"), Map.entry("--sr-steps", "2"))), flags);

        BenchCommand defaults = new BenchCommand();
        new CommandLine(defaults).parseArgs();
        Map<String, String> d = flags(defaults.referenceArgs(Path.of("/b")));
        assertEquals(List.of("--bundle", "--num-images", "--prompt", "--runs", "--threads",
                "--warmup"), List.copyOf(d.keySet()), "unset sampling options are left to the manifests");
        assertEquals(Integer.toString(Runtime.getRuntime().availableProcessors()), d.get("--threads"),
                "ONNX Runtime's default is one thread per core");
    }

    private static Map<String, String> flags(List<String> args) {
        assertEquals(0, args.size() % 2, args.toString());
        Map<String, String> m = new TreeMap<>();
        for (int i = 0; i < args.size(); i += 2) {
            m.put(args.get(i), args.get(i + 1));
        }
        return m;
    }

    /**
     * The real reference on the shipped bundle, where Debian's torch is installed (skipped elsewhere):
     * both sides run the same stages and steps, and the reference's self-check passes.
     */
    @Test
    void sideBySideOnTheShippedBundleWhereTorchIsInstalled() throws Exception {
        Path shipped = Path.of("../models/bundle");
        assumeTrue(java.nio.file.Files.isDirectory(shipped), "no shipped bundle");
        TorchReference ref = new TorchReference(TorchReference.DEFAULT_PYTHON, Path.of("..").resolve(
                TorchReference.SCRIPT));
        assumeTrue(ref.unavailable().isEmpty(), () -> "no torch here: " + ref.unavailable().orElse(""));
        UnclipCommandTest.Result r = UnclipCommandTest.run(bench("--models", shipped.toString(), "--json",
                "--torch", "--torch-script", ref.script().toString()));
        assertEquals(0, r.code(), r.err());
        ObjectMapper json = new ObjectMapper();
        List<String> stages = new ArrayList<>();
        JsonNode torch = null;
        for (String line : r.out().split("\n")) {
            JsonNode e = json.readTree(line);
            if ("bench_side_by_side".equals(e.path("event").asText())) {
                stages.add(e.get("stage").asText());
                assertTrue(e.get("torch_ms").asDouble() > 0 && e.get("java_wall_ms").asDouble() > 0, line);
            } else if ("bench_torch".equals(e.path("event").asText())) {
                torch = e;
            }
        }
        assertEquals(List.of("text_encoder", "prior", "decoder"), stages);
        assertTrue(torch != null && torch.get("torch_threads").asInt() == 1, r.out());
        for (JsonNode c : torch.get("self_check")) {
            assertTrue(c.get("ok").asBoolean(), c.toString());
        }
    }

    @Test
    void refusesANonPositiveRunCount() {
        UnclipCommandTest.Result r = UnclipCommandTest.run("bench", "--models", BUNDLE, "-k", "0");
        assertEquals(ExitCodes.BAD_INPUT, r.code());
        assertTrue(r.err().contains("--runs"), r.err());
    }
}
