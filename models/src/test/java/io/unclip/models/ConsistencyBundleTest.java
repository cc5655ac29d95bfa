package io.unclip.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.unclip.engine.diffusion.ConsistencyStep;
import io.unclip.engine.model.DiffusionSpec;
import io.unclip.engine.model.ModelBundle;
import io.unclip.engine.model.ModelRepository;
import io.unclip.engine.onnx.OrtRuntime;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.engine.stage.SamplerSettings;
import io.unclip.engine.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The consistency-distilled decoder ships as an overlay of the demo bundle (models/bundle/consistency, "base": ".."):
 * it loads through the repository with every other stage taken from the base, samples with the consistency sampler
 * in its manifest's few steps, and its graph reproduces the PyTorch output recorded at export.
 */
class ConsistencyBundleTest {
    private static Path overlay() {
        return ShippedBundleTest.bundleDir().resolve("consistency");
    }

    @Test
    void theOverlayCarriesItsTeachersConditioningAndTakesTheRestFromTheBase() {
        Path base = ShippedBundleTest.bundleDir();
        try (OrtRuntime runtime = new OrtRuntime(RuntimeOptions.defaults().withThreads(2, 1));
             ModelBundle b = new ModelRepository(runtime).load(overlay())) {
            assertEquals("shapes-demo-consistency", b.name());
            assertEquals(ShippedBundleTest.STAGES, List.copyOf(b.stages().keySet()));
            assertEquals(overlay().resolve("decoder").normalize(), b.stage("decoder").manifest().dir().normalize());
            // the teacher's conditioning travels with the student; the rest is the base's
            assertEquals(overlay().resolve("prior").normalize(), b.stage("prior").manifest().dir().normalize());
            assertEquals(overlay().resolve("text_encoder").normalize(),
                    b.stage("text_encoder").manifest().dir().normalize());
            assertEquals(base.resolve("upsampler_512").normalize(),
                    b.stage("upsampler_512").manifest().dir().normalize());
            DiffusionSpec d = b.stage("decoder").manifest().diffusion().orElseThrow();
            SamplerSettings s = SamplerSettings.resolve("decoder", d, SamplerOverrides.none());
            assertEquals("consistency, trailing4 (4 steps), eta 0, guidance 1, clip 1", s.describe());
            assertTrue(s.sampler(d).step() instanceof ConsistencyStep);
            assertEquals("trailing2", SamplerSettings.resolve("decoder", d, SamplerOverrides.none().withSteps(2))
                    .respacing());

            JsonNode ref = ShippedBundleTest.reference(b.stage("decoder").manifest().dir());
            Tensor out = b.stage("decoder").session().run(ReferenceCheck.inputs(ref)).get(ReferenceCheck.outputName(ref));
            List<String> problems = ReferenceCheck.check(ref, out);
            assertTrue(problems.isEmpty(), () -> problems.size() + " mismatches, first: "
                    + problems.subList(0, Math.min(5, problems.size())));
            // the student is not the teacher: the same reference input gives another output
            JsonNode teacherRef = ShippedBundleTest.reference(base.resolve("decoder"));
            assertNotEquals(teacherRef.get("output_sum").asDouble(), ref.get("output_sum").asDouble());
        }
    }
}
