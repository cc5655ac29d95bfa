package io.unclip.service.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.grpc.Status;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GenerationParams;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.pipeline.CascadePlan;

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
    void onnxThreadSettingsReachTheRuntimeOptions() {
        var o = StageModel.runtimeOptions("cpu", 3, 2);
        assertEquals(List.of(3, 2), List.of(o.intraOpThreads(), o.interOpThreads()));
        var defaults = StageModel.runtimeOptions("cpu", 0, 0);
        assertEquals(List.of(0, 0), List.of(defaults.intraOpThreads(), defaults.interOpThreads()));
        assertEquals("cuda:1", StageModel.runtimeOptions("cuda:1", 4, 0).deviceSpec());
    }

    @Test
    void thePlanInTheContractsTerms() {
        StageModel.Probe p = StageModel.probe("text-encoder", Optional.of(TINY), StageKind.TEXT_ENCODER);
        CascadePlan plan = CascadePlan.of(p.bundle(), p.manifests());
        assertEquals(List.of(8, 32, 128), plan.sizes());
        assertEquals(List.of(StageName.TEXT_ENCODER, StageName.PRIOR, StageName.DECODER, StageName.UPSAMPLER),
                PlanSteps.names(plan, CascadePlan.Job.GENERATE, 32));
        assertEquals(List.of(StageName.TEXT_ENCODER, StageName.DECODER, StageName.UPSAMPLER, StageName.UPSAMPLER),
                PlanSteps.names(plan, CascadePlan.Job.VARIATIONS, 0));
        StageTask decoded = StageTask.newBuilder().setJobId("j").setStage(StageName.DECODER)
                .setRequest(JobRequest.newBuilder().setJobId("j").setGenerate(GenerateRequest.getDefaultInstance()))
                .setParams(GenerationParams.newBuilder().setSize(128)).setAttempt(2).build();
        StageTask next = PlanSteps.next(plan, decoded).orElseThrow().build();
        assertEquals(List.of(StageName.UPSAMPLER, 0, 1), List.of(next.getStage(), next.getCascadeStep(), next.getAttempt()));
        StageTask last = next.toBuilder().setCascadeStep(1).build();
        assertTrue(PlanSteps.next(plan, last).isEmpty(), "the 128 upsampler ends a 128 job");
        assertTrue(PlanSteps.next(plan, decoded.toBuilder().setParams(GenerationParams.newBuilder().setSize(8)).build())
                .isEmpty(), "the decoder ends an 8 px job");
    }
}
