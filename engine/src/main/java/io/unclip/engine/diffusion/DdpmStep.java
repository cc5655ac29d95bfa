package io.unclip.engine.diffusion;

/**
 * Ancestral sampling (Ho et al. Algorithm 2; improved-diffusion {@code p_sample}):
 * x_{t-1} = mu(x_t, x0) + exp(log var / 2) z, with no noise at index 0, where
 * mu = coef1 x0 + coef2 x_t is the posterior mean (eq. 7). With classifier guidance the mean moves by
 * Sigma * s grad log p(y | x_t) (guided-diffusion {@code condition_mean}).
 */
public final class DdpmStep implements DenoisingStep {
    private final GaussianDiffusion diffusion;
    private final ModelOutputSpec spec;

    public DdpmStep(GaussianDiffusion diffusion, ModelOutputSpec spec) {
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
        float[] mean = result.mean();
        float[] logVar = result.logVariance();
        float[] xPrev = result.xPrev();
        X0Predictor.predict(diffusion, spec, index, x, modelOutput, layout, predX0);
        LogVarianceResolver.resolve(diffusion, spec.variance(), index, modelOutput, layout, logVar);
        float coef1 = (float) diffusion.posteriorMeanCoef1(index);
        float coef2 = (float) diffusion.posteriorMeanCoef2(index);
        int n = x.length;
        for (int i = 0; i < n; i++) {
            mean[i] = coef1 * predX0[i] + coef2 * x[i];
        }
        if (gradient != null) {
            for (int i = 0; i < n; i++) {
                mean[i] += (float) Math.exp(logVar[i]) * gradient[i];
            }
        }
        if (!usesNoise(index)) {
            System.arraycopy(mean, 0, xPrev, 0, n);
        } else if (spec.variance() == VarianceType.LEARNED_RANGE) {
            for (int i = 0; i < n; i++) {
                xPrev[i] = mean[i] + (float) Math.exp(0.5f * logVar[i]) * noise[i];
            }
        } else {
            float std = (float) Math.exp(0.5f * logVar[0]); // one value per step
            for (int i = 0; i < n; i++) {
                xPrev[i] = mean[i] + std * noise[i];
            }
        }
    }
}
