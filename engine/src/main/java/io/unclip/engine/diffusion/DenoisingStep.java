package io.unclip.engine.diffusion;

/**
 * One reverse-diffusion update x_t -> x_{t-1} at a respaced step index, on flat float arrays laid
 * out per {@link SampleLayout}. Implementations hold no per-call state and are thread-safe.
 */
public interface DenoisingStep {
    GaussianDiffusion diffusion();

    ModelOutputSpec outputSpec();

    /** Whether {@link #apply} reads {@code noise} at this index (false at index 0, or DDIM eta = 0). */
    boolean usesNoise(int index);

    /**
     * @param index       respaced step, from {@code diffusion().numSteps() - 1} down to 0
     * @param x           x_t, {@code layout.size()} values
     * @param modelOutput the (already guided) model output, C or 2C channels per outputSpec
     * @param noise       standard normal draws like x; may be null when {@link #usesNoise} is false
     * @param result      receives pred_x0, mean, log variance and x_{t-1}
     */
    default void apply(int index, float[] x, float[] modelOutput, float[] noise, SampleLayout layout,
                       StepResult result) {
        apply(index, x, modelOutput, null, noise, layout, result);
    }

    /**
     * The same update, with ADM classifier guidance (Dhariwal and Nichol 2021, section 4): {@code gradient} is
     * s * grad_x log p(y | x_t), like x, or null for none. Each sampler applies it its own way: DDPM shifts the
     * mean by Sigma * gradient, DDIM moves epsilon against the score.
     */
    void apply(int index, float[] x, float[] modelOutput, float[] gradient, float[] noise, SampleLayout layout,
               StepResult result);

    /** Argument checks shared by the implementations. */
    static void checkArguments(DenoisingStep step, int index, float[] x, float[] modelOutput, float[] gradient,
                               float[] noise, SampleLayout layout, StepResult result) {
        int steps = step.diffusion().numSteps();
        if (index < 0 || index >= steps) {
            throw new IllegalArgumentException("step index " + index + " outside [0, " + steps + ")");
        }
        int size = layout.size();
        int outSize = layout.batch() * layout.spatial()
                * step.outputSpec().variance().outputChannels(layout.channels());
        if (x.length != size) {
            throw new IllegalArgumentException("x has " + x.length + " values, layout needs " + size);
        }
        if (modelOutput.length != outSize) {
            throw new IllegalArgumentException("model output has " + modelOutput.length + " values, expected "
                    + outSize + " for " + step.outputSpec().variance() + " with layout " + layout);
        }
        if (gradient != null && gradient.length != size) {
            throw new IllegalArgumentException("guidance gradient has " + gradient.length + " values, x has " + size);
        }
        if (step.usesNoise(index) && (noise == null || noise.length != size)) {
            throw new IllegalArgumentException("step " + index + " needs " + size + " noise values");
        }
        if (!result.layout().equals(layout)) {
            throw new IllegalArgumentException("result layout " + result.layout() + " != " + layout);
        }
    }
}
