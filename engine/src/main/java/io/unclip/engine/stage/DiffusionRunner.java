package io.unclip.engine.stage;

import io.unclip.engine.diffusion.ClassifierFreeGuidance;
import io.unclip.engine.diffusion.DenoisingStep;
import io.unclip.engine.diffusion.DiffusionModel;
import io.unclip.engine.diffusion.DiffusionSampler;
import io.unclip.engine.diffusion.GaussianDiffusion;
import io.unclip.engine.diffusion.NoiseSource;
import io.unclip.engine.diffusion.SampleLayout;
import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.diffusion.SamplingOptions;
import io.unclip.engine.diffusion.StepListener;
import io.unclip.engine.diffusion.StepResult;
import io.unclip.engine.diffusion.VarianceType;
import io.unclip.engine.model.DiffusionSpec;
import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.model.TensorDecl;
import io.unclip.engine.onnx.ElementType;
import io.unclip.engine.onnx.LongTensor;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * Runs a diffusion stage's model under {@link DiffusionSampler}: the model adapter (roles to
 * tensor names, timesteps), guidance, progress and previews, cancellation, timings, and the
 * known-pixel replacement of inpainting.
 */
final class DiffusionRunner {
    private final LoadedStage stage;
    private final StageManifest manifest;
    private final DiffusionSpec spec;
    private final String predictionName;
    private final TensorDecl timestep;

    DiffusionRunner(LoadedStage stage) {
        this.stage = stage;
        this.manifest = stage.manifest();
        this.spec = manifest.diffusion().orElseThrow(() -> new IllegalArgumentException(stage.name()
                + " is a " + stage.kind().id() + " stage, not a diffusion stage"));
        this.predictionName = manifest.outputName("prediction");
        this.timestep = manifest.inputForRole("timestep").orElseThrow();
    }

    DiffusionSpec spec() {
        return spec;
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
        DiffusionSampler sampler = settings.sampler(spec);
        int rows = (int) shape[0];
        ClassifierFreeGuidance guidance = settings.guidance();
        StageRun run = StageRun.start(stage, cascadeStep, ctx, settings.steps(), rows);
        int total = settings.steps();
        KnownPixels known = inpaint == null ? null
                : new KnownPixels(inpaint, SampleLayout.of(shape), sampler.step().diffusion(), inpaintNoise);
        int outChannels = VarianceType.fromName(spec.variance()).outputChannels((int) shape[1]);
        Tensor[] output = new Tensor[1]; // the prediction, written in place by ONNX Runtime every step
        DiffusionModel model = (x, timesteps) -> {
            ModelInputs in = ModelInputs.create();
            StageRun.put(in, manifest, "sample", sampleInput == null ? x : sampleInput.apply(x));
            putTimesteps(in, timesteps);
            conditioning.put(in, (int) x.dim(0));
            if (output[0] == null || output[0].dim(0) != x.dim(0)) {
                long[] outShape = shape.clone();
                outShape[0] = x.dim(0);
                outShape[1] = outChannels;
                output[0] = Tensor.zeros(outShape);
            }
            run.callInto(in, predictionName, output[0]);
            return output[0];
        };
        StepListener listener = (k, steps, predX0) -> {
            int step = k + 1;
            Tensor preview = null;
            if (images && ctx.previewAt(step, steps)) {
                preview = predX0.copy();
                if (known != null) {
                    known.blendPreview(preview);
                }
            }
            run.progress(step, steps, preview);
        };
        SamplingOptions options = new SamplingOptions(guidance, listener, ctx.cancellation());
        Tensor out = known == null ? sampler.sample(model, shape, noise, options)
                : sampleWithHook(sampler.step(), model, shape, noise, options, known);
        return new Outcome(out, run.finish(total));
    }

    /** Puts the conditioning inputs for a model batch. */
    @FunctionalInterface
    interface Conditioning {
        void put(ModelInputs in, int modelRows);
    }

    private void putTimesteps(ModelInputs in, long[] timesteps) {
        if (timestep.rank() == 0) {
            if (timestep.type() == ElementType.FLOAT32) {
                in.put(timestep.name(), Tensor.of(new float[] {timesteps[0]}));
            } else {
                in.put(timestep.name(), new LongTensor(new long[] {timesteps[0]}, new long[0]));
            }
        } else {
            StageRun.putIntegers(in, manifest, "timestep", timesteps.clone(), timesteps.length);
        }
    }

    /** Replaces the known region of x_t at every step; see {@link Inpainting}. */
    interface StepHook {
        /** Before the model sees x_t at respaced step {@code index}. */
        void beforeModel(int index, float[] x);

        /** After the last step, on x_0. */
        void afterLast(float[] x);
    }

    /**
     * {@link DiffusionSampler}'s loop with a hook on x_t. Without the hook's changes it computes
     * exactly what the sampler does (tested), so inpainting shares the sampler's numerics.
     */
    static Tensor sampleWithHook(DenoisingStep step, DiffusionModel model, long[] shape, NoiseSource noise,
                                 SamplingOptions options, StepHook hook) {
        SampleLayout layout = SampleLayout.of(shape);
        float[] x = new float[layout.size()];
        int item = layout.itemSize();
        for (int r = 0; r < layout.batch(); r++) {
            noise.fill(r, x, r * item, item);
        }
        GaussianDiffusion diffusion = step.diffusion();
        ClassifierFreeGuidance guidance = options.guidance();
        int batch = layout.batch();
        int modelBatch = guidance == null ? batch : 2 * batch;
        int outChannels = step.outputSpec().variance().outputChannels(layout.channels());
        int outItem = outChannels * layout.spatial();
        long[] inputShape = shape.clone();
        inputShape[0] = modelBatch;
        Tensor modelInput = Tensor.zeros(inputShape);
        long[] timesteps = new long[modelBatch];
        float[] batchedOut = guidance == null ? null : new float[modelBatch * outItem];
        float[] modelOut = new float[batch * outItem];
        float[] stepNoise = new float[layout.size()];
        StepResult result = new StepResult(layout);
        Tensor preview = Tensor.zeros(shape);
        int total = diffusion.numSteps();
        for (int k = 0; k < total; k++) {
            if (options.cancellation().getAsBoolean()) {
                throw new SamplingCancelledException(k, total);
            }
            int index = total - 1 - k;
            hook.beforeModel(index, x);
            modelInput.buffer().put(0, x);
            if (guidance != null) {
                modelInput.buffer().put(x.length, x);
            }
            Arrays.fill(timesteps, diffusion.modelTimestep(index));
            Tensor output = model.predict(modelInput, timesteps);
            if (output.size() != modelBatch * outItem) {
                throw new IllegalStateException("model returned " + output + ", expected " + modelBatch + " rows of "
                        + outItem + " values");
            }
            if (guidance == null) {
                output.buffer().get(0, modelOut);
            } else {
                output.buffer().get(0, batchedOut);
                guidance.combine(batchedOut, batch, layout.channels(), outChannels, layout.spatial(), modelOut);
            }
            if (step.usesNoise(index)) {
                for (int r = 0; r < batch; r++) {
                    noise.fill(r, stepNoise, r * item, item);
                }
            }
            step.apply(index, x, modelOut, stepNoise, layout, result);
            System.arraycopy(result.xPrev(), 0, x, 0, x.length);
            preview.buffer().put(0, result.predX0());
            options.listener().onStep(k, total, preview);
        }
        hook.afterLast(x);
        return Tensor.of(x, shape);
    }

    /** The inpainting hook. */
    static final class KnownPixels implements StepHook {
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
