package io.unclip.prior;

import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.stage.PriorResult;
import io.unclip.engine.stage.PriorStage;
import io.unclip.engine.stage.TextConditioning;
import io.unclip.service.Lazy;
import io.unclip.service.StageScheduling;
import io.unclip.service.WorkerRuntime;
import io.unclip.service.kafka.Outcome;
import io.unclip.service.kafka.StageHandler;
import io.unclip.service.stage.Generation;
import io.unclip.service.stage.JobSpec;
import io.unclip.service.stage.PlanSteps;
import io.unclip.service.stage.StageCodec;
import io.unclip.service.stage.StageModel;
import io.unclip.service.stage.TaskContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * The prior's Kafka work: the prompt's conditioning repeated for the N images, the empty prompt
 * for guidance, DALL-E 2's two candidates per image (the better one kept), image embeddings to
 * the decoder's task.
 */
@ApplicationScoped
public class PriorHandler implements StageHandler {
    @Inject
    StageModel model;

    @Inject
    StageScheduling scheduling;

    @Inject
    WorkerRuntime runtime;

    private final Lazy<PriorStage> stage = new Lazy<>(() -> new PriorStage(model.require().stages().get(0),
            scheduling.scheduling()));

    @Override
    public StageName stage() {
        return StageName.PRIOR;
    }

    PriorStage prior() {
        return stage.get();
    }

    @Override
    public Outcome handle(StageTask task, TaskContext ctx) {
        PriorStage prior = prior();
        if (!task.getRequest().hasGenerate()) {
            throw new InvalidRequestException("request", "the prior runs text-to-image jobs"
                    + " only, got a " + task.getRequest().getRequestCase() + " job");
        }
        JobSpec job = JobSpec.of(task.getRequest());
        StageCodec codec = new StageCodec(runtime.tensors());
        StageManifest m = prior.stage().manifest();
        TextConditioning cond = codec.text("inputs.text", task.getInputs().getText(), task.getInputs().hasText(), m);
        TextConditioning uncond = codec.text("inputs.unconditional", task.getInputs().getUnconditional(),
                task.getInputs().hasUnconditional(), m);
        int n = job.numImages();
        Generation.Recorder rec = new Generation.Recorder(ctx);
        PriorResult pr = prior.sample(cond.repeat(0, n), uncond, job.diffusion(job.prior()), rec.context());
        io.unclip.api.v1.StageTimings own = rec.timings(StageName.PRIOR);
        StageTask next = PlanSteps.next(model.require().plan(), task).orElseThrow()
                .setInputs(task.getInputs().toBuilder().setImageEmbeds(codec.toProto(pr.imageEmbeds())))
                .addTimings(own)
                .build();
        return Outcome.next(next, own);
    }
}
