package io.unclip.decoder;

import io.unclip.api.v1.StageImages;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.stage.ClassifierStage;
import io.unclip.engine.stage.DecoderStage;
import io.unclip.engine.stage.ImageEncoderStage;
import io.unclip.engine.stage.DiffusionOutput;
import io.unclip.engine.stage.TextConditioning;
import io.unclip.engine.tensor.Tensor;
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
import io.unclip.service.validate.Checks;
import io.unclip.service.validate.Limits;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

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
            scheduling.scheduling(), model.require().also(StageKind.CLASSIFIER).map(ClassifierStage::new).orElse(null),
            model.require().also(StageKind.IMAGE_ENCODER).map(ImageEncoderStage::new).orElse(null)));

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
        StageManifest m = decoder.stage().manifest();
        Tensor embeds = codec.embeddings("inputs.image_embeds", task.getInputs().getImageEmbeds(), n, m);
        // text conditioning is optional for variations and absent for interpolations, as embedded
        TextConditioning cond = job.usesPrior() || task.getInputs().hasText()
                ? codec.text("inputs.text", task.getInputs().getText(), task.getInputs().hasText(), m) : null;
        TextConditioning uncond = codec.text("inputs.unconditional", task.getInputs().getUnconditional(),
                task.getInputs().hasUnconditional(), m);
        Generation.Recorder rec = new Generation.Recorder(ctx);
        DiffusionOutput out = decoder.decode(embeds, cond == null ? null : cond.repeat(0, n), uncond,
                job.diffusion(job.decoder()), null, job.prompt(), rec.context());
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
