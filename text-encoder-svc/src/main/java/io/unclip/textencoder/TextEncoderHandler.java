package io.unclip.textencoder;

import java.util.List;

import com.google.protobuf.ByteString;

import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GenerationParams;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.StageInputs;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.pipeline.CascadePlan;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.ImageEmbeddings;
import io.unclip.engine.stage.ImageEncoderStage;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.stage.TextConditioning;
import io.unclip.engine.stage.TextEncoderStage;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.Lazy;
import io.unclip.service.StageScheduling;
import io.unclip.service.WorkerRuntime;
import io.unclip.service.codec.UploadedImages;
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
 * The text encoder's Kafka work, the first stage of a job: checks what only the bundle can check
 * (vocabulary, size, every stage's sampler overrides against its manifest) so a bad job fails
 * before any diffusion runs, resolves the output size, encodes the prompt and the empty prompt
 * (guidance's unconditional text), and queues the prior's task. Variations and interpolations
 * start here too: the bundle's image encoder (loaded next to the text encoder) gives the image
 * embeddings, and the decoder's task is queued directly.
 */
@ApplicationScoped
public class TextEncoderHandler implements StageHandler {
    @Inject
    StageModel model;

    @Inject
    WorkerRuntime runtime;

    @Inject
    StageScheduling scheduling;

    private final Lazy<TextEncoderStage> stage = new Lazy<>(() -> new TextEncoderStage(model.require().stages().get(0),
            scheduling.scheduling()));
    private final Lazy<ImageEncoderStage> imageEncoder = new Lazy<>(this::requireImageEncoder);
    private final PngCodec png = PngCodec.withDefaultLimits();

    @Override
    public StageName stage() {
        return StageName.TEXT_ENCODER;
    }

    TextEncoderStage encoder() {
        return stage.get();
    }

    @Override
    public Outcome handle(StageTask task, TaskContext ctx) {
        return switch (task.getRequest().getRequestCase()) {
            case GENERATE -> generate(task, ctx);
            case VARIATIONS, INTERPOLATE -> fromImages(task, ctx);
            default -> throw new InvalidRequestException("request", "the text encoder runs"
                    + " generate, variations and interpolate jobs, got " + task.getRequest().getRequestCase());
        };
    }

    /** Text to image: the prompt's and the empty prompt's conditioning, to the prior. */
    private Outcome generate(StageTask task, TaskContext ctx) {
        StageModel.Loaded loaded = model.require();
        TextEncoderStage te = encoder();
        GenerateRequest g = task.getRequest().getGenerate();
        te.checkPrompt("prompt", g.getPrompt());
        CascadePlan plan = loaded.plan();
        int size = plan.resolveSize(g.getSize());
        JobSpec job = JobSpec.of(task.getRequest());
        preflight(plan, size, task, job);

        Generation.Recorder rec = new Generation.Recorder(ctx);
        TextConditioning cond = te.encode(List.of(g.getPrompt()), rec.context());
        TextConditioning uncond = te.emptyPrompt();
        StageCodec codec = new StageCodec(runtime.tensors());
        io.unclip.api.v1.StageTimings own = rec.timings(StageName.TEXT_ENCODER);
        StageTask next = following(plan, task.toBuilder().setParams(GenerationParams.newBuilder()
                        .setPrompt(g.getPrompt()).setSize(size).setModelBundle(loaded.bundleId())))
                .setInputs(StageInputs.newBuilder()
                        .setText(codec.toProto(cond, 0))
                        .setUnconditional(codec.toProto(uncond, 0)))
                .addTimings(own)
                .build();
        return Outcome.next(next, own);
    }

    /**
     * Variations and interpolations (DALL-E 2 Figures 3 and 4): this service's image encoder
     * gives the image embeddings the prior would have sampled, straight to the decoder, with the
     * optional prompt's conditioning and the empty prompt's (guidance).
     */
    private Outcome fromImages(StageTask task, TaskContext ctx) {
        StageModel.Loaded loaded = model.require();
        TextEncoderStage te = encoder();
        JobRequest r = task.getRequest();
        if (r.hasInterpolate() && r.getInterpolate().hasTowardsPrompt()) {
            throw new InvalidRequestException("towards_prompt", "interpolation towards a"
                    + " prompt needs a description of image_a from the captioner; the distributed pipeline runs"
                    + " image_b interpolations only (towards_prompt runs embedded: unclip interpolate --towards)");
        }
        ImageEncoderStage encoder = imageEncoder.get();
        JobSpec job = JobSpec.of(r);
        if (job.prompt() != null) {
            te.checkPrompt("prompt", job.prompt());
        }
        CascadePlan plan = loaded.plan();
        int size = plan.resolveSize(job.requestedSize());
        preflight(plan, size, task, job);

        Generation.Recorder rec = new Generation.Recorder(ctx);
        StageInputs.Builder inputs = StageInputs.newBuilder();
        StageCodec codec = new StageCodec(runtime.tensors());
        if (job.prompt() != null) {
            inputs.setText(codec.toProto(te.encode(List.of(job.prompt()), rec.context()), 0));
        }
        inputs.setUnconditional(codec.toProto(te.emptyPrompt(), 0));
        Tensor embeds = r.hasVariations()
                ? ImageEmbeddings.variations(encoder, image("image", r.getVariations().getImage()), job.numImages(),
                        rec.context())
                : ImageEmbeddings.slerpFrames(encoder, image("image_a", r.getInterpolate().getImageA()),
                        image("image_b", r.getInterpolate().getImageB()), job.numImages(), rec.context());
        inputs.setImageEmbeds(codec.toProto(embeds));
        io.unclip.api.v1.StageTimings own = rec.timings(StageName.TEXT_ENCODER);
        GenerationParams.Builder params = GenerationParams.newBuilder().setSize(size).setModelBundle(loaded.bundleId());
        if (job.prompt() != null) {
            params.setPrompt(job.prompt());
        }
        StageTask next = following(plan, task.toBuilder().setParams(params))
                .setInputs(inputs)
                .addTimings(own)
                .build();
        return Outcome.next(next, own);
    }

    /** The task after this step, by the plan, for the job as {@code withParams} resolved it. */
    private static StageTask.Builder following(CascadePlan plan, StageTask.Builder withParams) {
        return PlanSteps.next(plan, withParams.build()).orElseThrow();
    }

    private ImageEncoderStage requireImageEncoder() {
        return model.require().also(StageKind.IMAGE_ENCODER).map(ImageEncoderStage::new).orElseThrow(() ->
                new InvalidRequestException("request", "the model bundle has no image_encoder"
                        + " stage, which variations and interpolations need"));
    }

    private Tensor image(String field, ByteString bytes) {
        return UploadedImages.decode(field, bytes, png).pixels();
    }

    /** The plan's preflight: every stage's sampler settings for this job, before anything runs. */
    static void preflight(CascadePlan plan, int size, StageTask task, JobSpec job) {
        plan.settings(PlanSteps.job(task.getRequest()), size, new StageOverrides(job.prior(), job.decoder(),
                job.upsampler()));
    }
}
