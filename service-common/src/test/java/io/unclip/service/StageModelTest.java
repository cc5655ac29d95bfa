package io.unclip.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.grpc.Status;
import io.unclip.api.v1.StageName;
import io.unclip.api.validate.InvalidRequestException;
import io.unclip.engine.model.StageKind;

/** Finding a service's stages in a bundle, and the cascade's sizes, from the manifests alone. */
class StageModelTest {
    static final Path TINY = Path.of(System.getProperty("unclip.test.bundle"));

    @Test
    void probeSaysWhyAModelIsMissing(@TempDir Path dir) throws Exception {
        StageModel.Probe unset = StageModel.probe("decoder", Optional.empty(), StageKind.DECODER);
        assertEquals(Status.Code.FAILED_PRECONDITION, unset.availability().code());
        assertTrue(unset.availability().reason().startsWith("decoder model not loaded: unclip.models.dir is not set"));
        assertEquals(Status.Code.FAILED_PRECONDITION,
                StageModel.probe("decoder", Optional.of(dir.resolve("nope")), StageKind.DECODER).availability().code());
        StageModel.Probe noBundle = StageModel.probe("decoder", Optional.of(dir), StageKind.DECODER);
        assertTrue(noBundle.availability().reason().contains("bundle.json"), noBundle.availability().reason());
        Files.writeString(dir.resolve("bundle.json"), "{\"name\": \"x\", \"version\": \"1\", \"stages\": [\"gone\"]}");
        StageModel.Probe none = StageModel.probe("decoder", Optional.of(dir), StageKind.DECODER);
        assertTrue(none.availability().reason().contains("has no decoder stage (unreadable: gone/"),
                none.availability().reason());

        StageModel.Probe found = StageModel.probe("upsampler", Optional.of(TINY), StageKind.UPSAMPLER);
        assertEquals(Status.Code.UNAVAILABLE, found.availability().code());
        assertEquals(List.of("upsampler_32", "upsampler_128"), found.stages());
    }

    @Test
    void cascadePlanFromTheManifests() {
        StageModel.Probe p = StageModel.probe("text-encoder", Optional.of(TINY), StageKind.TEXT_ENCODER);
        CascadePlan plan = CascadePlan.of(p.bundle(), p.manifests());
        assertEquals(List.of(8, 32, 128), plan.sizes());
        assertEquals(128, plan.resolveSize(0));
        assertEquals(1, plan.upsamplerSteps(32));
        assertEquals(List.of(StageName.TEXT_ENCODER, StageName.PRIOR, StageName.DECODER, StageName.UPSAMPLER),
                plan.generatePlan(32));
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> plan.resolveSize(64));
        assertEquals("size", e.field());
    }
}
