package io.unclip.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.unclip.engine.model.BundleManifest;
import io.unclip.engine.model.ModelRepository;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.onnx.Fixtures;
import io.unclip.engine.pipeline.CascadePlan.Job;
import io.unclip.engine.pipeline.CascadePlan.Step;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.stage.SamplerOverrides;

/** The one cascade plan, read from the tiny bundle's manifests (no model loaded). */
class CascadePlanTest {
    static final CascadePlan PLAN = CascadePlan.read(Fixtures.tinyBundle());
    static final Step TEXT = new Step(StageKind.TEXT_ENCODER, 0, "text_encoder", 0);
    static final Step PRIOR = new Step(StageKind.PRIOR, 0, "prior", 0);
    static final Step DECODER = new Step(StageKind.DECODER, 0, "decoder", 8);
    static final Step UP32 = new Step(StageKind.UPSAMPLER, 0, "upsampler_32", 32);
    static final Step UP128 = new Step(StageKind.UPSAMPLER, 1, "upsampler_128", 128);

    @Test
    void sizesAreTheDecodersThenEachUpsamplersInBundleOrder() {
        assertEquals(List.of(8, 32, 128), PLAN.sizes());
        assertEquals(128, PLAN.resolveSize(0));
        assertEquals(32, PLAN.resolveSize(32));
        assertEquals("size: 64 is not a size this bundle makes; it makes 8, 32, 128",
                assertThrows(InvalidRequestException.class, () -> PLAN.resolveSize(64)).getMessage());
        assertEquals(List.of(0, 1, 2), List.of(PLAN.upsamplerSteps(8), PLAN.upsamplerSteps(32), PLAN.upsamplerSteps(128)));
    }

    @Test
    void eachJobKindHasItsStagesInOrder() {
        assertEquals(List.of(TEXT, PRIOR, DECODER, UP32, UP128), PLAN.steps(Job.GENERATE, 128));
        assertEquals(List.of(TEXT, PRIOR, DECODER, UP32), PLAN.steps(Job.INPAINT, 32));
        assertEquals(List.of(TEXT, DECODER), PLAN.steps(Job.VARIATIONS, 8));
        assertEquals(List.of(TEXT, DECODER, UP32, UP128), PLAN.steps(Job.INTERPOLATE, 128));
        assertEquals(List.of(new Step(StageKind.CAPTIONER, 0, "captioner", 0)), PLAN.steps(Job.CAPTION, 0));
    }

    /** A bundle with a third upsampler needs no code: the plan, and the cascade following it, read the chain. */
    @Test
    void aThirdUpsamplerExtendsTheChain(@TempDir Path tmp) {
        Path bundle = Fixtures.tinyBundleWith512(tmp.resolve("tiny512"));
        CascadePlan plan = CascadePlan.read(bundle);
        assertEquals(List.of(8, 32, 128, 512), plan.sizes());
        Step up512 = new Step(StageKind.UPSAMPLER, 2, "upsampler_512", 512);
        assertEquals(List.of(TEXT, PRIOR, DECODER, UP32, UP128, up512), plan.steps(Job.GENERATE, 0));
        assertEquals(Optional.of(up512), plan.next(Job.VARIATIONS, 512, StageKind.UPSAMPLER, 1));
        try (Cascade cascade = Cascade.open(bundle, Fixtures.lightCpu())) {
            GenerationResult r = cascade.generate(new GenerationRequest("a red circle", 1, 3L, 512,
                    StageOverrides.none().withPrior(SamplerOverrides.none().withCandidates(1)), 0), null, null);
            assertArrayEquals(new long[] {1, 3, 512, 512}, r.images().shape());
            assertEquals(List.of(8, 32, 128, 512), r.parameters().sizes());
        }
    }

    /** The preflight: every diffusion step's settings for the job, decided before anything runs. */
    @Test
    void settingsOfEveryStepOfAJob() {
        var settings = PLAN.settings(Job.GENERATE, 32, StageOverrides.none()
                .withDecoder(SamplerOverrides.none().withRespacing("trailing3")));
        assertEquals(List.of("prior", "decoder", "upsampler_32"), List.copyOf(settings.keySet()));
        assertEquals(3, settings.get("decoder").steps());
        assertEquals(List.of("decoder", "upsampler_32", "upsampler_128"),
                List.copyOf(PLAN.settings(Job.VARIATIONS, 128, null).keySet()));
        assertEquals("upsampler.guidance_scale: upsampler_32 has no conditioning to guide (no image_embeds input); use 1",
                assertThrows(InvalidRequestException.class, () -> PLAN.settings(Job.GENERATE, 32, StageOverrides.none()
                        .withUpsampler(SamplerOverrides.none().withGuidanceScale(2.0)))).getMessage());
        assertEquals("prior.steps", assertThrows(InvalidRequestException.class, () -> PLAN.settings(Job.GENERATE, 8,
                StageOverrides.none().withPrior(SamplerOverrides.none().withSteps(0)))).field());
    }

    /** Decoder candidates are ranked by the image encoder: a bundle without one refuses them at the door. */
    @Test
    void decoderCandidatesNeedAnImageEncoder() {
        StageOverrides three = StageOverrides.none().withDecoder(SamplerOverrides.none().withCandidates(3));
        assertEquals(3, PLAN.settings(Job.GENERATE, 128, three).get("decoder").candidates());
        assertEquals(1, PLAN.settings(Job.GENERATE, 128, null).get("decoder").candidates());
        ModelRepository reader = new ModelRepository(null);
        BundleManifest bundle = reader.readBundle(Fixtures.tinyBundle());
        Map<String, StageManifest> noEncoder = new LinkedHashMap<>();
        for (String s : bundle.stages()) {
            StageManifest m = reader.readStage(Fixtures.tinyBundle(), s);
            if (m.kind() != StageKind.IMAGE_ENCODER) {
                noEncoder.put(s, m);
            }
        }
        CascadePlan plan = CascadePlan.of(bundle, noEncoder);
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> plan.settings(Job.GENERATE, 8, three));
        assertEquals("decoder.candidates", e.field());
        assertEquals("decoder.candidates: the model bundle 'tiny' has no image_encoder stage to rank candidates"
                + " with", e.getMessage());
        assertEquals(1, plan.settings(Job.GENERATE, 8, StageOverrides.none()
                .withDecoder(SamplerOverrides.none().withCandidates(1))).get("decoder").candidates());
        assertEquals(2, plan.settings(Job.GENERATE, 8, StageOverrides.none()).get("prior").candidates(),
                "the prior ranks by its text embedding: no image encoder needed");
        assertEquals("upsampler.candidates: applies to the prior and the decoder only",
                assertThrows(InvalidRequestException.class,
                () -> PLAN.settings(Job.GENERATE, 32, StageOverrides.none()
                        .withUpsampler(SamplerOverrides.none().withCandidates(2)))).getMessage());
    }

    @Test
    void nextIsWhatTheJobRunsAfterAStep() {
        assertEquals(Optional.of(PRIOR), PLAN.next(Job.GENERATE, 128, StageKind.TEXT_ENCODER, 0));
        assertEquals(Optional.of(DECODER), PLAN.next(Job.VARIATIONS, 128, StageKind.TEXT_ENCODER, 0));
        assertEquals(Optional.of(UP128), PLAN.next(Job.GENERATE, 128, StageKind.UPSAMPLER, 0));
        assertEquals(Optional.empty(), PLAN.next(Job.GENERATE, 128, StageKind.UPSAMPLER, 1));
        assertEquals(Optional.empty(), PLAN.next(Job.GENERATE, 8, StageKind.DECODER, 0));
        assertThrows(IllegalArgumentException.class, () -> PLAN.next(Job.GENERATE, 32, StageKind.UPSAMPLER, 1));
    }
}
