package io.unclip.engine.stage;

import io.unclip.engine.diffusion.ClassifierGuidance;
import io.unclip.engine.diffusion.DiffusionSampler;
import io.unclip.engine.diffusion.GaussianDiffusion;
import io.unclip.engine.diffusion.NoiseSource;
import io.unclip.engine.diffusion.SampleHook;
import io.unclip.engine.diffusion.SampleLayout;
import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.diffusion.SamplingState;
import io.unclip.engine.diffusion.StepListener;
import io.unclip.engine.model.DiffusionSpec;
import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.schedule.StepProgress;
import io.unclip.engine.schedule.StepScheduler;
import io.unclip.engine.schedule.Ticket;
import io.unclip.engine.tensor.Tensor;
import java.util.function.UnaryOperator;

/**
 * Runs a diffusion stage's model: one request's {@link SamplingState} (noise, guidance,
 * inpainting's known-pixel hook) goes to the stage's {@link StepScheduler}, which shares each
 * model call with the other requests in flight; this thread waits for its steps and reports
 * progress, previews and timings.
 */
final class DiffusionRunner implements AutoCloseable {
    private final LoadedStage stage;
    private final StageManifest manifest;
    private final DiffusionSpec spec;
    private final StepScheduler scheduler;

    DiffusionRunner(LoadedStage stage, Scheduling scheduling) {
        this.stage = stage;
        this.manifest = stage.manifest();
        this.spec = manifest.diffusion().orElseThrow(() -> new IllegalArgumentException(stage.name()
                + " is a " + stage.kind().id() + " stage, not a diffusion stage"));
        this.scheduler = new StepScheduler(stage.name(), new StageStepModel(stage),
                scheduling.config(), scheduling.observer());
    }

    DiffusionSpec spec() {
        return spec;
    }

    StepScheduler scheduler() {
        return scheduler;
    }

    @Override
    public void close() {
        scheduler.close();
    }

    /** The result of one run: the final sample and what it cost. */
    record Outcome(Tensor sample, StageTimings timings) {
    }

    /**
     * @param shape        sample shape [N, C, H, W] or [N, D]
     * @param noise        per-row noise (x_T, then each noisy step)
     * @param settings     resolved sampler settings
     * @param conditioning puts the conditioning inputs for a model batch of the given rows (N
     *                     without guidance, [cond; uncond] 2N with)
     * @param sampleInput  maps x_t (model rows) to the model's {@code sample} input; null = as is
     * @param images       whether the sample is an image (previews are sent)
     * @param inpaint      known pixels (at the sample's resolution), or null
     * @param inpaintNoise noise for q(x_t | x_0) of the known pixels (with {@code inpaint})
     */
    Outcome run(long[] shape, NoiseSource noise, SamplerSettings settings, Conditioning conditioning,
                UnaryOperator<Tensor> sampleInput, boolean images, Inpainting inpaint, NoiseSource inpaintNoise,
                int cascadeStep, RunContext ctx) {
        return run(shape, noise, settings, conditioning, sampleInput, images, inpaint, inpaintNoise, null, cascadeStep,
                ctx);
    }

    /** As above, with ADM classifier guidance ({@code classifier} may be null). */
    Outcome run(long[] shape, NoiseSource noise, SamplerSettings settings, Conditioning conditioning,
                UnaryOperator<Tensor> sampleInput, boolean images, Inpainting inpaint, NoiseSource inpaintNoise,
                ClassifierGuidance classifier, int cascadeStep, RunContext ctx) {
        DiffusionSampler sampler = settings.sampler(spec);
        if (ctx.cancelled()) {
            throw new SamplingCancelledException(0, settings.steps());
        }
        StageRun run = StageRun.start(stage, cascadeStep, ctx, settings.steps(), (int) shape[0]);
        KnownPixels known = inpaint == null ? null
                : new KnownPixels(inpaint, SampleLayout.of(shape), sampler.step().diffusion(), inpaintNoise);
        Ticket ticket = new Ticket(settings.steps(), ctx.cancellation());
        StepListener listener = (k, steps, predX0) -> { // on the scheduler's thread: copy, don't encode
            int step = k + 1;
            Tensor preview = null;
            if (images && ctx.previewAt(step, steps)) {
                preview = predX0.copy();
                if (known != null) {
                    known.blendPreview(preview);
                }
            }
            ticket.post(new StepProgress(step, steps, preview));
        };
        SamplingState state = SamplingState.fromNoise(sampler.step(), shape, noise, settings.guidance(), classifier,
                known, listener);
        ModelInputs rowsIn = ModelInputs.create();
        conditioning.put(rowsIn, state.modelRows());
        scheduler.submit(new StepScheduler.Job(state, rowsIn, sampleInput, ctx.deadline()),
                ticket);
        Tensor out = ticket.await(p -> run.progress(p.step(), p.total(), p.preview()));
        run.countCalls(settings.steps());
        return new Outcome(out, run.finish(settings.steps()));
    }

    /** Puts the conditioning inputs for a model batch. */
    @FunctionalInterface
    interface Conditioning {
        void put(ModelInputs in, int modelRows);
    }

    /** The inpainting hook. */
    static final class KnownPixels implements SampleHook {
        private final float[] image;   // per row, C x spatial
        private final float[] keep;    // per row, spatial
        private final SampleLayout layout;
        private final GaussianDiffusion diffusion;
        private final NoiseSource noise;
        private final float[] eps;

        KnownPixels(Inpainting inpaint, SampleLayout layout, GaussianDiffusion diffusion, NoiseSource noise) {
            if (inpaint.image().dim(1) != layout.channels()
                    || inpaint.image().dim(2) * inpaint.image().dim(3) != layout.spatial()) {
                throw new IllegalArgumentException("inpainting image " + inpaint.image() + " does not match the"
                        + " sample layout " + layout);
            }
            this.layout = layout;
            this.diffusion = diffusion;
            this.noise = noise;
            this.image = perRow(inpaint.image(), layout.batch());
            this.keep = perRow(inpaint.keep(), layout.batch());
            this.eps = new float[layout.itemSize()];
        }

        private static float[] perRow(Tensor t, int rows) {
            if (t.dim(0) == rows) {
                return t.toArray();
            }
            if (t.dim(0) != 1) {
                throw new IllegalArgumentException("inpainting tensor " + t + " must have 1 or " + rows + " rows");
            }
            float[] one = t.toArray();
            float[] all = new float[one.length * rows];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(one, 0, all, r * one.length, one.length);
            }
            return all;
        }

        @Override
        public void beforeModel(int index, float[] x) {
            float a = (float) Math.sqrt(diffusion.alphaCumprod(index));
            float b = (float) Math.sqrt(1.0 - diffusion.alphaCumprod(index));
            int c = layout.channels();
            int s = layout.spatial();
            for (int r = 0; r < layout.batch(); r++) {
                noise.fill(r, eps, 0, eps.length);
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < s; i++) {
                        int xi = (r * c + ch) * s + i;
                        float k = keep[r * s + i];
                        if (k > 0f) {
                            float noised = a * image[xi] + b * eps[ch * s + i];
                            x[xi] = k * noised + (1f - k) * x[xi];
                        }
                    }
                }
            }
        }

        @Override
        public void afterLast(float[] x) {
            blend(x);
        }

        void blendPreview(Tensor preview) {
            float[] p = preview.toArray();
            blend(p);
            preview.buffer().put(0, p);
        }

        private void blend(float[] x) {
            int c = layout.channels();
            int s = layout.spatial();
            for (int r = 0; r < layout.batch(); r++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < s; i++) {
                        int xi = (r * c + ch) * s + i;
                        float k = keep[r * s + i];
                        if (k > 0f) {
                            x[xi] = k * image[xi] + (1f - k) * x[xi];
                        }
                    }
                }
            }
        }
    }
}
