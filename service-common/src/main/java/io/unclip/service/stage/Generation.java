package io.unclip.service.stage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.protobuf.ByteString;

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
import io.unclip.engine.stage.RunContext;
import io.unclip.engine.stage.SamplerSettings;
import io.unclip.engine.stage.StageListener;
import io.unclip.engine.stage.StageProgress;
import io.unclip.engine.stage.StageTimings;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.record.Records;

/**
 * A job as the stages of the distributed pipeline run it: the same calls, seeds and noise streams
 * as the embedded cascade ({@code io.unclip.engine.pipeline.Cascade}; the job's values: {@link JobSpec}),
 * one stage per service, so the images are the same bits; and the result, whose PNGs carry the
 * same parameters text as the CLI's (so they are the same bytes).
 */
public final class Generation {
    private Generation() {
    }

    /**
     * The parameters the embedded cascade reports for this job, recomputed from the request and
     * the bundle's manifests (each diffusion stage's settings are its manifest's defaults with the
     * request's overrides, resolved as the stage resolves them).
     */
    static GenerationParameters parameters(JobSpec job, int size, StageModel.Loaded model) {
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
        if (prior != null && job.usesPrior()) {
            stages.put(prior.stage(), SamplerSettings.forStage(prior, job.prior()));
        }
        if (decoder != null) {
            stages.put(decoder.stage(), SamplerSettings.forStage(decoder, job.decoder()));
        }
        for (int i = 0; i < ups && i < upsamplers.size(); i++) {
            StageManifest u = upsamplers.get(i);
            stages.put(u.stage(), SamplerSettings.forStage(u, job.upsampler()));
        }
        return new GenerationParameters(job.mode(), job.prompt(), job.seed(), job.numImages(), size,
                sizes.subList(0, Math.max(ups, 0) + 1), stages, model.bundle().name(),
                model.bundle().version(), job.extra());
    }

    /**
     * GenerationParams (the result's effective parameters) of the embedded parameters; each stage's
     * settings go to the field of its manifest's kind (the last upsampler's to {@code upsampler}).
     */
    static GenerationParams params(GenerationParameters p, Map<String, StageManifest> manifests) {
        GenerationParams.Builder b = GenerationParams.newBuilder().setPrompt(p.prompt() == null ? "" : p.prompt())
                .setSize(p.size()).setModelBundle(p.bundleName() + "@" + p.bundleVersion());
        p.stages().forEach((stage, s) -> {
            StageManifest m = manifests.get(stage);
            StageKind kind = m == null ? null : m.kind();
            if (kind == StageKind.PRIOR) {
                b.setPrior(StageCodec.effective(s));
            } else if (kind == StageKind.DECODER) {
                b.setDecoder(StageCodec.effective(s));
            } else if (kind == StageKind.UPSAMPLER) {
                b.setUpsampler(StageCodec.effective(s));
            } else {
                throw new IllegalStateException("stage " + stage + " of the parameters is not a diffusion stage "
                        + "of the bundle");
            }
        });
        return b.build();
    }

    /**
     * The job's SUCCEEDED result: one PNG per image (their width is the job's output size), encoded
     * as the CLI encodes them (same parameters text), inline; timings of every stage, this one's last.
     */
    public static JobResult result(StageTask task, Tensor images, JobSpec job, StageModel.Loaded model,
                                   io.unclip.api.v1.StageTimings own, PngCodec png) {
        int w = (int) images.dim(3);
        int h = (int) images.dim(2);
        GenerationParameters p = parameters(job, w, model);
        long seed = p.seed();
        JobResult.Builder r = JobResult.newBuilder()
                .setJobId(task.getJobId())
                .setStatus(JobState.SUCCEEDED)
                .setSeed(seed)
                .setParams(params(p, model.manifests()))
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
        private final List<StageTimings> runs = new java.util.concurrent.CopyOnWriteArrayList<>();

        public Recorder(TaskContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void progress(StageProgress e) {
            ctx.progress(e.step(), e.total(), e.preview());
        }

        @Override
        public void stageFinished(StageTimings t) {
            runs.add(t);
        }

        /** The run context for the engine: this listener, the worker's cancellation, the job's previews. */
        public RunContext context() {
            return new RunContext(this, ctx.cancellation(), ctx.previewInterval());
        }

        /**
         * This task's timings (the sum of its model runs, e.g. the text and the image encoder),
         * with the time the task waited in its topic.
         */
        public io.unclip.api.v1.StageTimings timings(io.unclip.api.v1.StageName stage) {
            io.unclip.api.v1.StageTimings.Builder b = io.unclip.api.v1.StageTimings.newBuilder().setStage(stage);
            if (!runs.isEmpty()) {
                b = StageCodec.timings(runs.get(runs.size() - 1), stage).toBuilder();
                if (runs.size() > 1) {
                    b.setWallMs(runs.stream().mapToLong(t -> StageCodec.timings(t, stage).getWallMs()).sum())
                            .setModelMs(runs.stream().mapToLong(t -> StageCodec.timings(t, stage).getModelMs()).sum());
                }
            }
            return b.setQueueMs(ctx.queueMs()).build();
        }
    }
}
