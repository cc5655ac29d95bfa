package io.unclip.engine.diffusion;

import java.util.Arrays;

/**
 * Multistep consistency sampling (Song et al. 2023, "Consistency Models", algorithm 1): the model's
 * clamped x0 is the consistency function's value, and the next kept timestep starts from it with
 * fresh noise, x_{t-1} = sqrt(abar_prev) x0 + sqrt(1 - abar_prev) z. At index 0 abar_prev is 1, so
 * the sample is that x0. Meant for consistency-distilled models (their manifests say
 * {@code sampler: consistency} with a few-step respacing such as {@code trailing4}); on another
 * model it is DDIM with all of epsilon replaced by noise. Classifier guidance moves epsilon against
 * the score as in {@link DdimStep}, and x0 follows from it.
 */
public final class ConsistencyStep implements DenoisingStep {
    private final GaussianDiffusion diffusion;
    private final ModelOutputSpec spec;

    public ConsistencyStep(GaussianDiffusion diffusion, ModelOutputSpec spec) {
        if (diffusion == null || spec == null) {
            throw new IllegalArgumentException("diffusion and output spec are required");
        }
        this.diffusion = diffusion;
        this.spec = spec;
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
        return index > 0;
    }

    @Override
    public void apply(int index, float[] x, float[] modelOutput, float[] gradient, float[] noise, SampleLayout layout,
                      StepResult result) {
        DenoisingStep.checkArguments(this, index, x, modelOutput, gradient, noise, layout, result);
        float[] predX0 = result.predX0();
        X0Predictor.predict(diffusion, spec, index, x, modelOutput, layout, predX0);
        int n = x.length;
        if (gradient != null) {
            float recip = (float) diffusion.sqrtRecipAlphaCumprod(index);
            float recipm1 = (float) diffusion.sqrtRecipm1AlphaCumprod(index);
            float scoreCoef = (float) Math.sqrt(1.0 - diffusion.alphaCumprod(index));
            for (int i = 0; i < n; i++) {
                float eps = (recip * x[i] - predX0[i]) / recipm1 - scoreCoef * gradient[i];
                predX0[i] = recip * x[i] - recipm1 * eps;
            }
        }
        double abarPrev = diffusion.alphaCumprodPrev(index);
        float x0Coef = (float) Math.sqrt(abarPrev);
        float sigma = (float) Math.sqrt(1.0 - abarPrev);
        Arrays.fill(result.logVariance(), (float) Math.log(1.0 - abarPrev));
        float[] mean = result.mean();
        float[] xPrev = result.xPrev();
        for (int i = 0; i < n; i++) {
            mean[i] = x0Coef * predX0[i];
        }
        if (usesNoise(index)) {
            for (int i = 0; i < n; i++) {
                xPrev[i] = mean[i] + sigma * noise[i];
            }
        } else {
            System.arraycopy(mean, 0, xPrev, 0, n);
        }
    }
}
