package io.unclip.engine.diffusion;

import java.util.Arrays;

/**
 * DDIM update (Song et al. eq. 12 and 16; improved-diffusion {@code ddim_sample}):
 * eps is re-derived from the clamped x0, then
 * x_{t-1} = x0 sqrt(abar_prev) + sqrt(1 - abar_prev - sigma^2) eps + sigma z, with
 * sigma = eta sqrt((1 - abar_prev) / (1 - abar)) sqrt(1 - abar / abar_prev). eta = 0 is
 * deterministic, eta = 1 matches DDPM's posterior variance. With classifier guidance eps moves against
 * the score, eps - sqrt(1 - abar) s grad log p(y | x_t), and x0 follows from it (guided-diffusion
 * {@code condition_score}).
 */
public final class DdimStep implements DenoisingStep {
    private final GaussianDiffusion diffusion;
    private final ModelOutputSpec spec;
    private final double eta;

    public DdimStep(GaussianDiffusion diffusion, ModelOutputSpec spec, double eta) {
        if (diffusion == null || spec == null) {
            throw new IllegalArgumentException("diffusion and output spec are required");
        }
        if (!(eta >= 0) || Double.isInfinite(eta)) {
            throw new IllegalArgumentException("DDIM eta must be finite and >= 0, got " + eta);
        }
        this.diffusion = diffusion;
        this.spec = spec;
        this.eta = eta;
    }

    public double eta() {
        return eta;
    }

    @Override
    public GaussianDiffusion diffusion() {
        return diffusion;
    }

    @Override
    public ModelOutputSpec outputSpec() {
        return spec;
    }

    @Override
    public boolean usesNoise(int index) {
        return index > 0 && sigma(index) != 0f;
    }

    /** sigma_t in float32, in the reference's operation order. */
    private float sigma(int index) {
        float abar = (float) diffusion.alphaCumprod(index);
        float abarPrev = (float) diffusion.alphaCumprodPrev(index);
        return (float) eta * sqrtf((1f - abarPrev) / (1f - abar)) * sqrtf(1f - abar / abarPrev);
    }

    @Override
    public void apply(int index, float[] x, float[] modelOutput, float[] gradient, float[] noise, SampleLayout layout,
                      StepResult result) {
        DenoisingStep.checkArguments(this, index, x, modelOutput, gradient, noise, layout, result);
        float[] predX0 = result.predX0();
        float[] mean = result.mean();
        float[] xPrev = result.xPrev();
        X0Predictor.predict(diffusion, spec, index, x, modelOutput, layout, predX0);
        float recip = (float) diffusion.sqrtRecipAlphaCumprod(index);
        float recipm1 = (float) diffusion.sqrtRecipm1AlphaCumprod(index);
        float abarPrev = (float) diffusion.alphaCumprodPrev(index);
        float sigma = sigma(index);
        float x0Coef = sqrtf(abarPrev);
        // max(0, .) only guards rounding; the reference would produce NaN there.
        float epsCoef = sqrtf(Math.max(0f, 1f - abarPrev - sigma * sigma));
        Arrays.fill(result.logVariance(), (float) Math.log((double) sigma * sigma));
        float scoreCoef = (float) Math.sqrt(1.0 - diffusion.alphaCumprod(index));
        int n = x.length;
        for (int i = 0; i < n; i++) {
            float eps = (recip * x[i] - predX0[i]) / recipm1;
            if (gradient != null) {
                eps -= scoreCoef * gradient[i];
                predX0[i] = recip * x[i] - recipm1 * eps;
            }
            mean[i] = predX0[i] * x0Coef + epsCoef * eps;
        }
        if (usesNoise(index)) {
            for (int i = 0; i < n; i++) {
                xPrev[i] = mean[i] + sigma * noise[i];
            }
        } else {
            System.arraycopy(mean, 0, xPrev, 0, n);
        }
    }

    private static float sqrtf(float v) {
        return (float) Math.sqrt(v);
    }
}
