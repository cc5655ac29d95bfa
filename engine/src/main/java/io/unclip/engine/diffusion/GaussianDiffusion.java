package io.unclip.engine.diffusion;

/**
 * The per-step coefficients of a (possibly respaced) Gaussian diffusion chain, in float64 like
 * improved-diffusion's {@code GaussianDiffusion.__init__}. Index i is the respaced step
 * (0 = least noisy); {@link #modelTimestep(int)} is the original timestep the model sees.
 *
 * <p>Immutable and thread-safe.
 */
public final class GaussianDiffusion {
    private final int numTrainTimesteps;
    private final long[] timestepMap;
    private final double[] betas;
    private final double[] alphasCumprod;
    private final double[] alphasCumprodPrev;
    private final double[] alphasCumprodNext;
    private final double[] sqrtRecipAlphasCumprod;
    private final double[] sqrtRecipm1AlphasCumprod;
    private final double[] posteriorVariance;
    private final double[] posteriorLogVarianceClipped;
    private final double[] posteriorMeanCoef1;
    private final double[] posteriorMeanCoef2;

    private GaussianDiffusion(int numTrainTimesteps, long[] timestepMap, double[] betas) {
        int n = betas.length;
        this.numTrainTimesteps = numTrainTimesteps;
        this.timestepMap = timestepMap;
        this.betas = betas;
        alphasCumprod = new double[n];
        double prod = 1.0;
        for (int i = 0; i < n; i++) {
            prod *= 1.0 - betas[i];
            alphasCumprod[i] = prod;
        }
        alphasCumprodPrev = new double[n];
        alphasCumprodNext = new double[n];
        for (int i = 0; i < n; i++) {
            alphasCumprodPrev[i] = i == 0 ? 1.0 : alphasCumprod[i - 1];
            alphasCumprodNext[i] = i == n - 1 ? 0.0 : alphasCumprod[i + 1];
        }
        sqrtRecipAlphasCumprod = new double[n];
        sqrtRecipm1AlphasCumprod = new double[n];
        posteriorVariance = new double[n];
        posteriorMeanCoef1 = new double[n];
        posteriorMeanCoef2 = new double[n];
        for (int i = 0; i < n; i++) {
            double ac = alphasCumprod[i];
            double acPrev = alphasCumprodPrev[i];
            sqrtRecipAlphasCumprod[i] = Math.sqrt(1.0 / ac);
            sqrtRecipm1AlphasCumprod[i] = Math.sqrt(1.0 / ac - 1);
            // q(x_{t-1} | x_t, x_0), Ho et al. eq. 6-7
            posteriorVariance[i] = betas[i] * (1.0 - acPrev) / (1.0 - ac);
            posteriorMeanCoef1[i] = betas[i] * Math.sqrt(acPrev) / (1.0 - ac);
            posteriorMeanCoef2[i] = (1.0 - acPrev) * Math.sqrt(1.0 - betas[i]) / (1.0 - ac);
        }
        // The posterior variance is 0 at step 0; its log takes step 1's value instead.
        posteriorLogVarianceClipped = new double[n];
        for (int i = 0; i < n; i++) {
            posteriorLogVarianceClipped[i] = Math.log(i == 0 ? firstVarianceSubstitute() : posteriorVariance[i]);
        }
    }

    /** A chain over {@code schedule}'s betas for T steps, keeping the timesteps of {@code respacing}. */
    public static GaussianDiffusion create(BetaSchedule schedule, int numTrainTimesteps, Respacing respacing) {
        if (schedule == null) {
            throw new IllegalArgumentException("beta schedule is null");
        }
        return fromBetas(schedule.betas(numTrainTimesteps), respacing);
    }

    /**
     * A respaced chain over explicit base betas (improved-diffusion {@code SpacedDiffusion}): for
     * each kept timestep, beta' = 1 - alpha_bar(t) / alpha_bar(previous kept t).
     */
    public static GaussianDiffusion fromBetas(double[] baseBetas, Respacing respacing) {
        if (baseBetas == null || respacing == null) {
            throw new IllegalArgumentException("betas and respacing are required");
        }
        if (respacing.numTrainTimesteps() != baseBetas.length) {
            throw new IllegalArgumentException("respacing is for " + respacing.numTrainTimesteps()
                    + " train timesteps but " + baseBetas.length + " betas were given");
        }
        for (int i = 0; i < baseBetas.length; i++) {
            if (!(baseBetas[i] > 0 && baseBetas[i] <= 1)) {
                throw new IllegalArgumentException("beta[" + i + "] = " + baseBetas[i] + " is outside (0, 1]");
            }
        }
        int[] kept = respacing.keptTimesteps();
        double[] newBetas = new double[kept.length];
        long[] map = new long[kept.length];
        double last = 1.0;
        double prod = 1.0;
        int k = 0;
        for (int t = 0; t < baseBetas.length && k < kept.length; t++) {
            prod *= 1.0 - baseBetas[t];
            if (t == kept[k]) {
                newBetas[k] = 1 - prod / last;
                map[k] = t;
                last = prod;
                k++;
            }
        }
        return new GaussianDiffusion(baseBetas.length, map, newBetas);
    }

    /** Number of (respaced) sampling steps. */
    public int numSteps() {
        return betas.length;
    }

    /** T of the trained chain. */
    public int numTrainTimesteps() {
        return numTrainTimesteps;
    }

    /** The original timestep the model is called with at respaced step {@code index}. */
    public long modelTimestep(int index) {
        return timestepMap[index];
    }

    /** Kept original timesteps in sampling order (largest first), as the sampler visits them. */
    public long[] timestepsInSamplingOrder() {
        long[] out = new long[timestepMap.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = timestepMap[timestepMap.length - 1 - i];
        }
        return out;
    }

    public double beta(int index) {
        return betas[index];
    }

    public double alphaCumprod(int index) {
        return alphasCumprod[index];
    }

    public double alphaCumprodPrev(int index) {
        return alphasCumprodPrev[index];
    }

    public double alphaCumprodNext(int index) {
        return alphasCumprodNext[index];
    }

    public double sqrtRecipAlphaCumprod(int index) {
        return sqrtRecipAlphasCumprod[index];
    }

    public double sqrtRecipm1AlphaCumprod(int index) {
        return sqrtRecipm1AlphasCumprod[index];
    }

    public double posteriorVariance(int index) {
        return posteriorVariance[index];
    }

    public double posteriorLogVarianceClipped(int index) {
        return posteriorLogVarianceClipped[index];
    }

    public double posteriorMeanCoef1(int index) {
        return posteriorMeanCoef1[index];
    }

    public double posteriorMeanCoef2(int index) {
        return posteriorMeanCoef2[index];
    }

    /** Variance of the "fixed large" choice: beta, except step 0 uses the posterior's step-1 variance. */
    public double fixedLargeVariance(int index) {
        return index == 0 ? firstVarianceSubstitute() : betas[index];
    }

    /**
     * improved-diffusion substitutes posterior_variance[1] where step 0's value would be 0. A
     * one-step chain has no step 1; beta_0 stands in.
     */
    private double firstVarianceSubstitute() {
        return betas.length > 1 ? posteriorVariance[1] : betas[0];
    }

    @Override
    public String toString() {
        return "GaussianDiffusion[" + numSteps() + " of " + numTrainTimesteps + " steps]";
    }
}
