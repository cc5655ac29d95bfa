package io.unclip.service.stage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.protobuf.ByteString;

import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GeneratedImage;
import io.unclip.api.v1.GenerationParams;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.pipeline.GenerationParameters;
import io.unclip.engine.stage.DiffusionRequest;
import io.unclip.engine.stage.PriorStage;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.engine.stage.SamplerSettings;
import io.unclip.engine.stage.StageListener;
import io.unclip.engine.stage.StageProgress;
import io.unclip.engine.stage.StageTimings;
import io.unclip.engine.stage.RunContext;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.StageModel;
import io.unclip.service.kafka.Records;
import io.unclip.service.kafka.TaskContext;

/**
 * A text-to-image job as the stages of the distributed pipeline run it: the same calls, seeds
 * and noise streams as the embedded cascade ({@code io.unclip.engine.pipeline.Cascade.generate}),
 * one stage per service, so the images are the same bits; and the result, whose PNGs carry the
 * same parameters text as the CLI's (so they are the same bytes).
 */
public final class Generation {
    private Generation() {
    }

    public static int numImages(GenerateRequest g) {
        return g.getNumImages() == 0 ? 1 : g.getNumImages();
    }

    public static SamplerOverrides prior(GenerateRequest g) {
        return StageCodec.overrides("prior", g.getPrior(), g.hasPrior());
    }

    public static SamplerOverrides decoder(GenerateRequest g) {
        return StageCodec.overrides("decoder", g.getDecoder(), g.hasDecoder());
    }

    public static SamplerOverrides upsampler(GenerateRequest g) {
        return StageCodec.overrides("upsampler", g.getUpsampler(), g.hasUpsampler());
    }

    /** Images 0..n-1 of the job's seed: each image reads its own noise streams, as embedded. */
    public static DiffusionRequest diffusion(GenerateRequest g, SamplerOverrides o) {
        return new DiffusionRequest(g.getSeed(), StageCodec.range(numImages(g)), o);
    }

    /**
     * The parameters the embedded cascade reports for this job, recomputed from the request and
     * the bundle's manifests (each diffusion stage's settings are its manifest's defaults with the
     * request's overrides, resolved as the stage resolves them).
     */
    public static GenerationParameters parameters(GenerateRequest g, int size, StageModel.Loaded model) {
        List<Integer> sizes = model.plan().sizes();
        int ups = sizes.indexOf(size);
        Map<String, SamplerSettings> stages = new LinkedHashMap<>();
        List<StageManifest> upsamplers = new ArrayList<>();
        StageManifest prior = null;
        StageManifest decoder = null;
        for (String s : model.bundle().stages()) {
            StageManifest m = model.manifests().get(s);
            if (m == null) {
                continue;
            }
            if (m.kind() == StageKind.PRIOR && prior == null) {
                prior = m;
            } else if (m.kind() == StageKind.DECODER && decoder == null) {
                decoder = m;
            } else if (m.kind() == StageKind.UPSAMPLER) {
                upsamplers.add(m);
            }
        }
        if (prior != null) {
            stages.put(prior.stage(), SamplerSettings.resolve("prior", prior.diffusion().orElseThrow(), prior(g)));
        }
        if (decoder != null) {
            stages.put(decoder.stage(), SamplerSettings.resolve("decoder", decoder.diffusion().orElseThrow(), decoder(g)));
        }
        for (int i = 0; i < ups && i < upsamplers.size(); i++) {
            StageManifest u = upsamplers.get(i);
            stages.put(u.stage(), SamplerSettings.resolve("upsampler", u.diffusion().orElseThrow(), upsampler(g)));
        }
        return new GenerationParameters("generate", g.getPrompt(), g.getSeed(), numImages(g), size,
                sizes.subList(0, Math.max(ups, 0) + 1), stages, PriorStage.DEFAULT_CANDIDATES, model.bundle().name(),
                model.bundle().version(), Map.of());
    }

    /** GenerationParams (the result's effective parameters) of the embedded parameters. */
    public static GenerationParams params(GenerationParameters p) {
        GenerationParams.Builder b = GenerationParams.newBuilder().setPrompt(p.prompt() == null ? "" : p.prompt())
                .setSize(p.size()).setModelBundle(p.bundleName() + "@" + p.bundleVersion());
        int i = 0;
        for (SamplerSettings s : p.stages().values()) {
            switch (i++) {
                case 0 -> b.setPrior(StageCodec.effective(s));
                case 1 -> b.setDecoder(StageCodec.effective(s));
                default -> b.setUpsampler(StageCodec.effective(s));
            }
        }
        return b.build();
    }

    /**
     * The job's SUCCEEDED result: one PNG per image, encoded as the CLI encodes them (same
     * parameters text), inline; timings of every stage, this one's last.
     */
    public static JobResult result(StageTask task, Tensor images, GenerationParameters p,
                                   io.unclip.api.v1.StageTimings own, PngCodec png) {
        long seed = task.getRequest().getGenerate().getSeed();
        int w = (int) images.dim(3);
        int h = (int) images.dim(2);
        JobResult.Builder r = JobResult.newBuilder()
                .setJobId(task.getJobId())
                .setStatus(JobState.SUCCEEDED)
                .setSeed(seed)
                .setParams(params(p))
                .addAllTimings(task.getTimingsList())
                .addTimings(own)
                .setFinishedAt(Records.now());
        for (int i = 0; i < images.dim(0); i++) {
            r.addImages(GeneratedImage.newBuilder().setIndex(i).setSeed(seed).setWidth(w).setHeight(h)
                    .setImage(ImageRef.newBuilder().setPng(ByteString.copyFrom(png.encode(images, i, p.pngText(i))))
                            .setWidth(w).setHeight(h)));
        }
        return r.build();
    }

    /** Forwards a stage run's progress to the worker and keeps its timings. */
    public static final class Recorder implements StageListener {
        private final TaskContext ctx;
        private volatile StageTimings timings;

        public Recorder(TaskContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void progress(StageProgress e) {
            ctx.progress(e.step(), e.total(), e.preview());
        }

        @Override
        public void stageFinished(StageTimings t) {
            timings = t;
        }

        /** The run context for the engine: this listener, the worker's cancellation, the job's previews. */
        public RunContext context() {
            return new RunContext(this, ctx.cancellation(), ctx.previewInterval());
        }

        /** This run's timings, with the time its task waited in its topic. */
        public io.unclip.api.v1.StageTimings timings(io.unclip.api.v1.StageName stage) {
            StageTimings t = timings;
            io.unclip.api.v1.StageTimings.Builder b = t == null
                    ? io.unclip.api.v1.StageTimings.newBuilder().setStage(stage)
                    : StageCodec.timings(t, stage).toBuilder();
            return b.setQueueMs(ctx.queueMs()).build();
        }
    }
}
