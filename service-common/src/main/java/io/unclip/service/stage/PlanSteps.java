package io.unclip.service.stage;

import java.util.List;
import java.util.Optional;

import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.pipeline.CascadePlan;

/**
 * The engine's {@link CascadePlan} in the contract's terms: stage names, jobs, tasks. Every stage
 * handler asks it what comes after its step and the gateway what a job will run; none of them
 * encodes the order itself.
 */
public final class PlanSteps {
    private PlanSteps() {
    }

    /** The contract's name of a stage kind that runs as a step (the image encoder runs inside the text encoder's, the classifier inside the decoder's). */
    public static StageName name(StageKind kind) {
        return switch (kind) {
            case TEXT_ENCODER -> StageName.TEXT_ENCODER;
            case PRIOR -> StageName.PRIOR;
            case DECODER -> StageName.DECODER;
            case UPSAMPLER -> StageName.UPSAMPLER;
            case CAPTIONER -> StageName.CAPTIONER;
            case IMAGE_ENCODER -> throw new IllegalArgumentException("the image encoder runs in the text encoder's step");
            case CLASSIFIER -> throw new IllegalArgumentException("the classifier runs in the decoder's step");
        };
    }

    public static StageKind kind(StageName name) {
        return switch (name) {
            case TEXT_ENCODER -> StageKind.TEXT_ENCODER;
            case PRIOR -> StageKind.PRIOR;
            case DECODER -> StageKind.DECODER;
            case UPSAMPLER -> StageKind.UPSAMPLER;
            case CAPTIONER -> StageKind.CAPTIONER;
            default -> throw new IllegalArgumentException("no stage " + name);
        };
    }

    /** What a job request asks the cascade for. */
    public static CascadePlan.Job job(JobRequest r) {
        return switch (r.getRequestCase()) {
            case GENERATE -> CascadePlan.Job.GENERATE;
            case VARIATIONS -> CascadePlan.Job.VARIATIONS;
            case INTERPOLATE -> CascadePlan.Job.INTERPOLATE;
            case CAPTION -> CascadePlan.Job.CAPTION;
            default -> throw new IllegalArgumentException("no job in the request: " + r.getRequestCase());
        };
    }

    /** The stages a job of output size {@code size} (0 = the largest) runs, in order, as the accepted event lists them. */
    public static List<StageName> names(CascadePlan plan, CascadePlan.Job job, int size) {
        return plan.steps(job, size).stream().map(s -> name(s.kind())).toList();
    }

    /**
     * The task that follows {@code task} (the step it names, at the size its params resolved), with
     * stage, cascade step and a first attempt set; empty when that step is the job's last.
     */
    public static Optional<StageTask.Builder> next(CascadePlan plan, StageTask task) {
        return plan.next(job(task.getRequest()), task.getParams().getSize(), kind(task.getStage()), task.getCascadeStep())
                .map(s -> task.toBuilder().setStage(name(s.kind())).setCascadeStep(s.cascadeStep()).setAttempt(1));
    }
}
