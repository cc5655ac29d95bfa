package io.unclip.engine.diffusion;

import io.unclip.engine.tensor.Tensor;

import java.util.Arrays;

/**
 * The sampling loop: from x_T, call the model at every kept timestep (largest first), apply
 * guidance, take a {@link DenoisingStep}, report the x0 preview, and stop early on cancellation.
 *
 * <p>Each row of the batch only ever reads its own noise stream and its own model output rows,
 * so a sample does not depend on what else is in the batch. Scratch buffers are allocated once
 * per {@code sample} call and reused for every step. Thread-safe: runs share no mutable state.
 */
public final class DiffusionSampler {
    private final DenoisingStep step;

    public DiffusionSampler(DenoisingStep step) {
        if (step == null) {
            throw new IllegalArgumentException("denoising step is required");
        }
        this.step = step;
    }

    /** Ancestral DDPM sampling. */
    public static DiffusionSampler ddpm(GaussianDiffusion diffusion, ModelOutputSpec spec) {
        return new DiffusionSampler(new DdpmStep(diffusion, spec));
    }

    /** DDIM sampling with the given eta (0 = deterministic). */
    public static DiffusionSampler ddim(GaussianDiffusion diffusion, ModelOutputSpec spec, double eta) {
        return new DiffusionSampler(new DdimStep(diffusion, spec, eta));
    }

    /**
     * A sampler by name, as model manifests spell it: {@code ddpm} (eta must be 0) or
     * {@code ddim} with the given eta.
     */
    public static DiffusionSampler named(String kind, GaussianDiffusion diffusion, ModelOutputSpec spec, double eta) {
        String k = kind == null ? "" : kind.trim().toLowerCase(java.util.Locale.ROOT);
        switch (k) {
            case "ddpm":
                if (eta != 0) {
                    throw new IllegalArgumentException("eta applies to ddim only; ddpm got eta = " + eta);
                }
                return ddpm(diffusion, spec);
            case "ddim":
                return ddim(diffusion, spec, eta);
            default:
                throw new IllegalArgumentException("unknown sampler '" + kind + "' (expected ddpm or ddim)");
        }
    }

    public DenoisingStep step() {
        return step;
    }

    /**
     * Samples from noise drawn from {@code noise}: row r's x_T is the first
     * {@code product(shape[1..])} draws of row r's stream, then each step draws from it too.
     *
     * @param shape [N, C, H, W] for images or [N, D] for vectors
     */
    public Tensor sample(DiffusionModel model, long[] shape, NoiseSource noise, SamplingOptions options) {
        SampleLayout layout = SampleLayout.of(shape);
        if (noise == null) {
            throw new IllegalArgumentException("model, noise source and options are required");
        }
        float[] xT = new float[layout.size()];
        int item = layout.itemSize();
        for (int r = 0; r < layout.batch(); r++) {
            noise.fill(r, xT, r * item, item);
        }
        return run(model, shape, layout, xT, noise, options);
    }

    /** Samples starting from the given x_T (not modified); {@code noise} feeds the steps. */
    public Tensor sample(DiffusionModel model, Tensor xT, NoiseSource noise, SamplingOptions options) {
        if (xT == null) {
            throw new IllegalArgumentException("initial noise x_T is required");
        }
        long[] shape = xT.shape();
        return run(model, shape, SampleLayout.of(shape), xT.toArray(), noise, options);
    }

    private Tensor run(DiffusionModel model, long[] shape, SampleLayout layout, float[] x,
                       NoiseSource noise, SamplingOptions options) {
        if (model == null || noise == null || options == null) {
            throw new IllegalArgumentException("model, noise source and options are required");
        }
        GaussianDiffusion diffusion = step.diffusion();
        ClassifierFreeGuidance guidance = options.guidance();
        int batch = layout.batch();
        int modelBatch = guidance == null ? batch : 2 * batch;
        int outChannels = step.outputSpec().variance().outputChannels(layout.channels());
        int item = layout.itemSize();
        int outItem = outChannels * layout.spatial();

        long[] inputShape = shape.clone();
        inputShape[0] = modelBatch;
        long[] expectedOutShape = inputShape.clone();
        expectedOutShape[1] = outChannels;
        Tensor modelInput = Tensor.zeros(inputShape);
        long[] timesteps = new long[modelBatch];
        float[] batchedOut = guidance == null ? null : new float[modelBatch * outItem];
        float[] modelOut = new float[batch * outItem];
        float[] stepNoise = new float[layout.size()];
        StepResult result = new StepResult(layout);
        boolean previews = options.listener() != StepListener.NONE;
        Tensor preview = previews ? Tensor.zeros(shape) : null;

        int total = diffusion.numSteps();
        for (int k = 0; k < total; k++) {
            if (options.cancellation().getAsBoolean()) {
                throw new SamplingCancelledException(k, total);
            }
            int index = total - 1 - k;
            modelInput.buffer().put(0, x);
            if (guidance != null) {
                modelInput.buffer().put(x.length, x); // the unconditional rows see the same x_t
            }
            Arrays.fill(timesteps, diffusion.modelTimestep(index));
            Tensor output = model.predict(modelInput, timesteps);
            checkOutputShape(output, expectedOutShape);
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
            if (previews) {
                preview.buffer().put(0, result.predX0());
                options.listener().onStep(k, total, preview);
            }
        }
        return Tensor.of(x, shape);
    }

    private static void checkOutputShape(Tensor output, long[] expected) {
        boolean ok = output != null && output.rank() == expected.length;
        for (int i = 0; ok && i < expected.length; i++) {
            ok = output.dim(i) == expected[i];
        }
        if (!ok) {
            throw new IllegalStateException("model returned " + output + ", expected Tensor"
                    + Arrays.toString(expected));
        }
    }
}
