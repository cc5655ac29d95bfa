package io.unclip.upsampler;

import java.util.ArrayList;
import java.util.List;

import io.unclip.api.v1.StageImages;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.stage.DiffusionOutput;
import io.unclip.engine.stage.Scheduling;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.stage.UpsamplerStage;
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
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * The upsamplers' Kafka work, one record per 4x step ({@code cascade_step} picks the bundle's
 * upsampler, in bundle.json order): the previous stage's exact pixels to 4x; then the next
 * step's task, or the job's result once the requested size is reached.
 */
@ApplicationScoped
public class UpsamplerHandler implements StageHandler {
    @Inject
    StageModel model;

    @Inject
    StageScheduling scheduling;

    @Inject
    WorkerRuntime runtime;

    private final PngCodec png = PngCodec.withDefaultLimits();
    private final Lazy<List<UpsamplerStage>> stages = new Lazy<>(() -> {
        List<UpsamplerStage> list = new ArrayList<>();
        Scheduling shared = scheduling.scheduling(); // one metrics observer for all
        for (LoadedStage l : model.require().stages()) {
            list.add(new UpsamplerStage(l, list.size(), shared));
        }
        return List.copyOf(list);
    });

    @Override
    public StageName stage() {
        return StageName.UPSAMPLER;
    }

    /** The bundle's upsampler for {@code cascade_step} (0 = the first), for both doors. */
    UpsamplerStage upsampler(int step) {
        List<UpsamplerStage> ups = stages.get();
        if (step >= ups.size()) {
            throw new InvalidRequestException("cascade_step", "is " + step + " but the bundle has " + ups.size()
                    + " upsampler(s)");
        }
        return ups.get(step);
    }

    @Override
    public Outcome handle(StageTask task, TaskContext ctx) {
        StageModel.Loaded loaded = model.require();
        int step = task.getCascadeStep();
        UpsamplerStage u = upsampler(step);
        JobSpec job = JobSpec.of(task.getRequest());
        StageCodec codec = new StageCodec(runtime.tensors());
        if (!task.getInputs().hasImages() || !task.getInputs().getImages().hasPixels()) {
            throw new InvalidRequestException("inputs.images.pixels", "is required");
        }
        int n = job.numImages();
        Tensor low = codec.fromProto("inputs.images.pixels", task.getInputs().getImages().getPixels());
        if (low.rank() != 4 || low.dim(0) != n || low.dim(2) != u.inputSize() || low.dim(3) != u.inputSize()) {
            throw new InvalidRequestException("inputs.images.pixels", u.stage().name() + " takes " + n + " images of "
                    + u.inputSize() + "x" + u.inputSize() + ", got " + java.util.Arrays.toString(low.shape()));
        }
        Tensor embeds = task.getInputs().hasImageEmbeds() ? codec.embeddings("inputs.image_embeds",
                task.getInputs().getImageEmbeds(), n, u.stage().manifest()) : null;
        Generation.Recorder rec = new Generation.Recorder(ctx);
        DiffusionOutput out = u.upsample(low, embeds, job.diffusion(job.upsampler()), null,
                rec.context());
        io.unclip.api.v1.StageTimings own = rec.timings(StageName.UPSAMPLER);
        var following = PlanSteps.next(loaded.plan(), task);
        if (following.isEmpty()) {
            return Outcome.done(Generation.result(task, out.images(), job, loaded, own, png), own);
        }
        StageTask next = following.get()
                .setInputs(task.getInputs().toBuilder()
                        .setImages(StageImages.newBuilder().setPixels(codec.toProto(out.images()))))
                .addTimings(own)
                .build();
        return Outcome.next(next, own);
    }
}
