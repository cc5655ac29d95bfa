package io.unclip.engine.diffusion;

/**
 * ADM classifier guidance (Dhariwal and Nichol 2021): at every step a noisy-image classifier's
 * grad_x log p(y | x_t, t), times {@code scale}, steers the sample towards the labels y. The
 * gradient comes from a model ({@link Gradient}); how a step applies it is the sampler's business
 * ({@link DenoisingStep#apply(int, float[], float[], float[], float[], SampleLayout, StepResult)}).
 */
public final class ClassifierGuidance {
    /** The classifier's gradient of log p(y | x_t, t) for every row of x_t, y bound by the implementation. */
    @FunctionalInterface
    public interface Gradient {
        /**
         * @param x         x_t, laid out per {@code layout}
         * @param timestep  the model (not respaced) timestep t
         * @param gradient  receives grad_x log p(y | x_t, t), like x
         */
        void compute(float[] x, SampleLayout layout, long timestep, float[] gradient);
    }

    private final double scale;
    private final Gradient gradient;

    public ClassifierGuidance(double scale, Gradient gradient) {
        if (!(scale > 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException("classifier guidance scale must be finite and > 0, got " + scale);
        }
        if (gradient == null) {
            throw new IllegalArgumentException("classifier gradient is required");
        }
        this.scale = scale;
        this.gradient = gradient;
    }

    public double scale() {
        return scale;
    }

    /** Fills {@code out} with scale * grad_x log p(y | x_t, t). */
    void scaledGradient(float[] x, SampleLayout layout, long timestep, float[] out) {
        gradient.compute(x, layout, timestep, out);
        float s = (float) scale;
        for (int i = 0; i < out.length; i++) {
            out[i] *= s;
        }
    }
}
