package io.unclip.decoder;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.unclip.api.v1.StageImages;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.validate.Checks;
import io.unclip.api.validate.Limits;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.stage.DecoderStage;
import io.unclip.engine.stage.DiffusionOutput;
import io.unclip.engine.stage.TextConditioning;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.Lazy;
import io.unclip.service.StageModel;
import io.unclip.service.StageScheduling;
import io.unclip.service.WorkerRuntime;
import io.unclip.service.kafka.Outcome;
import io.unclip.service.kafka.StageHandler;
import io.unclip.service.kafka.TaskContext;
import io.unclip.service.stage.Generation;
import io.unclip.service.stage.JobSpec;
import io.unclip.service.stage.PlanSteps;
import io.unclip.service.stage.StageCodec;

/**
 * The decoder's Kafka work: image embeddings (plus the prompt's text, and the empty prompt for
 * guidance) to base-resolution images; then the first upsampler's task, or the job's result when
 * the job asked for the decoder's size.
 */
@ApplicationScoped
public class DecoderHandler implements StageHandler {
    @Inject
    StageModel model;

    @Inject
    StageScheduling scheduling;

    @Inject
    WorkerRuntime runtime;

    private final PngCodec png = PngCodec.withDefaultLimits();
    private final Lazy<DecoderStage> stage = new Lazy<>(() -> new DecoderStage(model.require().stages().get(0),
            scheduling.scheduling()));

    @Override
    public StageName stage() {
        return StageName.DECODER;
    }

    DecoderStage decoder() {
        return stage.get();
    }

    @Override
    public Outcome handle(StageTask task, TaskContext ctx) {
        StageModel.Loaded loaded = model.require();
        DecoderStage decoder = decoder();
        JobSpec job = JobSpec.of(task.getRequest());
        StageCodec codec = new StageCodec(runtime.tensors());
        int n = job.numImages();
        Checks.embeddings("inputs.image_embeds", task.getInputs().getImageEmbeds(), task.getInputs().hasImageEmbeds(),
                Limits.MAX_STAGE_BATCH);
        Tensor embeds = codec.fromProto("inputs.image_embeds", task.getInputs().getImageEmbeds());
        // text conditioning is optional for variations and absent for interpolations, as embedded
        TextConditioning cond = job.usesPrior() || task.getInputs().hasText()
                ? codec.toEngine("inputs.text", task.getInputs().getText(), task.getInputs().hasText()) : null;
        TextConditioning uncond = codec.toEngine("inputs.unconditional", task.getInputs().getUnconditional(),
                task.getInputs().hasUnconditional());
        StageCodec.checkEmbeddings("inputs.image_embeds", embeds, n, decoder.stage().manifest());
        if (cond != null) {
            StageCodec.checkText("inputs.text", cond, decoder.stage().manifest());
        }
        StageCodec.checkText("inputs.unconditional", uncond, decoder.stage().manifest());
        Generation.Recorder rec = new Generation.Recorder(ctx);
        DiffusionOutput out = decoder.decode(embeds, cond == null ? null : cond.repeat(0, n), uncond,
                job.diffusion(job.decoder()), null, rec.context());
        io.unclip.api.v1.StageTimings own = rec.timings(StageName.DECODER);
        var following = PlanSteps.next(loaded.plan(), task);
        if (following.isEmpty()) {
            return Outcome.done(Generation.result(task, out.images(), job, loaded, own, png), own);
        }
        StageTask next = following.get()
                .setInputs(task.getInputs().toBuilder().clearText().clearUnconditional()
                        .setImages(StageImages.newBuilder().setPixels(codec.toProto(out.images()))))
                .addTimings(own)
                .build();
        return Outcome.next(next, own);
    }
}
