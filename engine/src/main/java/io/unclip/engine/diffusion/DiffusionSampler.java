package io.unclip.engine.diffusion;

import io.unclip.engine.tensor.Tensor;

import java.util.Arrays;

/**
 * The sampling loop: from x_T, call the model at every kept timestep (largest first), apply
 * guidance, take a {@link DenoisingStep}, report the x0 preview, and stop early on cancellation.
 *
 * <p>The state of a run is a {@link SamplingState}; this class drives one state alone. Each row
 * of the batch only ever reads its own noise stream and its own model output rows, so a sample
 * does not depend on what else is in the batch. Thread-safe: runs share no mutable state.
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

    /** Multistep consistency sampling, for consistency-distilled models ({@link ConsistencyStep}). */
    public static DiffusionSampler consistency(GaussianDiffusion diffusion, ModelOutputSpec spec) {
        return new DiffusionSampler(new ConsistencyStep(diffusion, spec));
    }

    /**
     * A sampler by name, as model manifests spell it: {@code ddpm} or {@code consistency} (eta must
     * be 0), or {@code ddim} with the given eta.
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
            case "consistency":
                if (eta != 0) {
                    throw new IllegalArgumentException("eta applies to ddim only; consistency got eta = " + eta);
                }
                return consistency(diffusion, spec);
            default:
                throw new IllegalArgumentException("unknown sampler '" + kind + "' (expected ddpm, ddim or consistency)");
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
        requireAll(model, noise, options);
        return run(model, SamplingState.fromNoise(step, shape, noise, options.guidance(), SampleHook.NONE,
                options.listener()), options);
    }

    /** Samples starting from the given x_T (not modified); {@code noise} feeds the steps. */
    public Tensor sample(DiffusionModel model, Tensor xT, NoiseSource noise, SamplingOptions options) {
        if (xT == null) {
            throw new IllegalArgumentException("initial noise x_T is required");
        }
        requireAll(model, noise, options);
        return run(model, new SamplingState(step, xT.shape(), xT.toArray(), noise, options.guidance(),
                SampleHook.NONE, options.listener()), options);
    }

    /** Drives one state alone: one model call of its own rows per step. */
    public static Tensor run(DiffusionModel model, SamplingState state, SamplingOptions options) {
        long[] outShape = state.shape();
        outShape[0] = state.modelRows();
        outShape[1] = state.outputChannels();
        long[] timesteps = new long[state.modelRows()];
        while (!state.finished()) {
            if (options.cancellation().getAsBoolean()) {
                throw new SamplingCancelledException(state.stepsDone(), state.totalSteps());
            }
            Arrays.fill(timesteps, state.modelTimestep());
            Tensor input = state.beginStep();
            Tensor output = model.predict(input, timesteps);
            checkOutputShape(output, outShape);
            state.endStep(output.buffer(), 0);
        }
        return state.sample();
    }

    private static void requireAll(DiffusionModel model, NoiseSource noise, SamplingOptions options) {
        if (model == null || noise == null || options == null) {
            throw new IllegalArgumentException("model, noise source and options are required");
        }
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
