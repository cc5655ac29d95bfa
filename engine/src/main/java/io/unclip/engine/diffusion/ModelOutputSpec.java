package io.unclip.engine.diffusion;

/** How to read a model's output: what it predicts, where the variance comes from, x0 clamping. */
public record ModelOutputSpec(Prediction prediction, VarianceType variance, X0Clip clip) {
    public ModelOutputSpec {
        if (prediction == null || variance == null || clip == null) {
            throw new IllegalArgumentException("prediction, variance and clip are all required");
        }
    }
}
