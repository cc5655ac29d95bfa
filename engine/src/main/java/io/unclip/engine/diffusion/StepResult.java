package io.unclip.engine.diffusion;

/**
 * The outputs of one denoising step, all laid out like the sample ({@link SampleLayout}). The
 * arrays are live and overwritten by the next step that writes into this result.
 */
public final class StepResult {
    private final SampleLayout layout;
    private final float[] predX0;
    private final float[] mean;
    private final float[] logVariance;
    private final float[] xPrev;

    public StepResult(SampleLayout layout) {
        this.layout = layout;
        int n = layout.size();
        predX0 = new float[n];
        mean = new float[n];
        logVariance = new float[n];
        xPrev = new float[n];
    }

    public SampleLayout layout() {
        return layout;
    }

    /** The (clamped) prediction of the clean sample; the sampler's preview image. */
    public float[] predX0() {
        return predX0;
    }

    /** The mean of p(x_{t-1} | x_t) (DDPM) or the deterministic part of the DDIM update. */
    public float[] mean() {
        return mean;
    }

    /** log variance of the step's noise; for DDIM log(sigma^2), -Infinity when eta = 0. */
    public float[] logVariance() {
        return logVariance;
    }

    /** The sample after this step. */
    public float[] xPrev() {
        return xPrev;
    }
}
