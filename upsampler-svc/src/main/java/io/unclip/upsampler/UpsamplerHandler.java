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
import io.unclip.engine.stage.UpsamplerStage;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.Lazy;
import io.unclip.service.StageScheduling;
import io.unclip.service.WorkerRuntime;
import io.unclip.service.kafka.Outcome;
import io.unclip.service.kafka.StageHandler;
import io.unclip.service.record.TaskRejectedException;
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

    List<UpsamplerStage> upsamplers() {
        return stages.get();
    }

    @Override
    public Outcome handle(StageTask task, TaskContext ctx) {
        StageModel.Loaded loaded = model.require();
        List<UpsamplerStage> ups = upsamplers();
        int step = task.getCascadeStep();
        if (step >= ups.size()) {
            throw TaskRejectedException.invalid("cascade_step", "cascade_step: " + step + " but the bundle has "
                    + ups.size() + " upsampler(s)", task.getJobId());
        }
        UpsamplerStage u = ups.get(step);
        JobSpec job = JobSpec.of(task.getRequest());
        StageCodec codec = new StageCodec(runtime.tensors());
        if (!task.getInputs().hasImages() || !task.getInputs().getImages().hasPixels()) {
            throw TaskRejectedException.invalid("inputs.images.pixels", "inputs.images.pixels: is required",
                    task.getJobId());
        }
        int n = job.numImages();
        Tensor low = codec.fromProto("inputs.images.pixels", task.getInputs().getImages().getPixels());
        if (low.rank() != 4 || low.dim(0) != n || low.dim(2) != u.inputSize() || low.dim(3) != u.inputSize()) {
            throw TaskRejectedException.invalid("inputs.images.pixels", "inputs.images.pixels: " + u.stage().name()
                    + " takes " + n + " images of " + u.inputSize() + "x" + u.inputSize() + ", got "
                    + java.util.Arrays.toString(low.shape()), task.getJobId());
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
