package io.unclip.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.SamplerOverrides;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CostModelTest {
    @TempDir
    Path tmp;

    private CostModel curve(String text, String runtime) throws Exception {
        Path f = tmp.resolve("curve.jsonl");
        Files.writeString(f, text);
        return CostModel.read(f, runtime, 1);
    }

    @Test
    void interpolatesBetweenMeasuredBatchesAndExtrapolatesAlongTheLastTwo() throws Exception {
        CostModel c = curve("""
                {"runtime": "gpu", "stage": "decoder", "batch": 2, "ms_per_call": 10}
                {"runtime": "gpu", "stage": "decoder", "batch": 10, "ms_per_call": 14}
                {"runtime": "gpu", "stage": "decoder", "batch": 20, "ms_per_call": 19}
                {"runtime": "cpu", "stage": "decoder", "batch": 1, "ms_per_call": 99}
                {"runtime": "train", "stage": "decoder", "batch": 32, "note": "no ms_per_call: skipped"}
                """, "gpu");
        assertEquals(10, c.ms("decoder", 1), 1e-9); // flat below the first
        assertEquals(10, c.ms("decoder", 2), 1e-9);
        assertEquals(12, c.ms("decoder", 6), 1e-9);
        assertEquals(19, c.ms("decoder", 20), 1e-9);
        assertEquals(24, c.ms("decoder", 30), 1e-9);
        InferenceException e = assertThrows(InferenceException.class, () -> c.ms("prior", 1));
        assertTrue(e.getMessage().contains("has no stage 'prior'; it has [decoder]"), e.getMessage());
    }

    @Test
    void aRuntimeNotInTheFileIsRefusedNamingThoseThatAre() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> curve(
                "{\"runtime\": \"gpu\", \"stage\": \"decoder\", \"batch\": 2, \"ms_per_call\": 10}\n", "tpu"));
        assertEquals("no cost curve for runtime 'tpu' in curve.jsonl; it has [gpu]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> curve(
                "{\"runtime\": \"gpu\", \"stage\": \"decoder\", \"batch\": 0, \"ms_per_call\": 10}\n", "gpu"));
    }

    @Test
    void aCascadeRunsOnTheCurveWithTheRealShapesAndTakesAtLeastItsCost() throws Exception {
        StringBuilder text = new StringBuilder();
        for (String stage : new String[] {"text_encoder", "prior", "decoder", "upsampler_32"}) {
            text.append("{\"runtime\": \"gpu\", \"stage\": \"").append(stage)
                    .append("\", \"batch\": 1, \"ms_per_call\": 1.5}\n");
        }
        CostModel cost = curve(text.toString(), "gpu");
        StageOverrides o = StageOverrides.none().withPrior(SamplerOverrides.none().withSteps(2))
                .withDecoder(SamplerOverrides.none().withSteps(3)).withUpsampler(SamplerOverrides.none().withSteps(2));
        try (Cascade cascade = Cascade.open(Fixtures.tinyBundle(), Fixtures.lightCpu().withCostModel(cost))) {
            long start = System.nanoTime();
            GenerationResult r = cascade.generate(GenerationRequest.of("a blue square").withSeed(1L).withSize(32)
                    .withOverrides(o), null, null);
            long wall = System.nanoTime() - start;
            assertEquals(32, r.images().dim(3));
            for (float v : r.images().toArray()) {
                assertTrue(Float.isFinite(v));
            }
            Map<String, CostModel.Usage> used = cost.usage();
            long calls = used.values().stream().mapToLong(CostModel.Usage::calls).sum();
            assertTrue(used.get("text_encoder").calls() >= 1, used.toString());
            assertTrue(used.get("decoder").calls() >= 3, used.toString());
            assertTrue(wall >= calls * 1_500_000L, "each call held the device for its cost: " + wall + " ns");
            for (CostModel.Usage u : used.values()) {
                assertTrue(u.heldNanos() >= u.chargedNanos(), used.toString());
            }
        }
    }
}
