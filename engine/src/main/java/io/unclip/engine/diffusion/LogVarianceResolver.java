package io.unclip.engine.diffusion;

import java.util.Arrays;

/** Fills the per-element log variance of a DDPM step (improved-diffusion {@code p_mean_variance}). */
final class LogVarianceResolver {
    private LogVarianceResolver() {
    }

    static void resolve(GaussianDiffusion diffusion, VarianceType variance, int index,
                        float[] modelOutput, SampleLayout layout, float[] logVariance) {
        switch (variance) {
            case FIXED_SMALL:
                Arrays.fill(logVariance, (float) diffusion.posteriorLogVarianceClipped(index));
                return;
            case FIXED_LARGE:
                Arrays.fill(logVariance, (float) Math.log(diffusion.fixedLargeVariance(index)));
                return;
            case LEARNED_RANGE:
                learnedRange(diffusion, index, modelOutput, layout, logVariance);
                return;
            default:
                throw new AssertionError(variance);
        }
    }

    /** v in [-1, 1] from the model's second C channels: frac max_log + (1 - frac) min_log. */
    private static void learnedRange(GaussianDiffusion diffusion, int index, float[] modelOutput,
                                     SampleLayout layout, float[] logVariance) {
        float minLog = (float) diffusion.posteriorLogVarianceClipped(index);
        float maxLog = (float) Math.log(diffusion.beta(index));
        int channels = layout.channels();
        int spatial = layout.spatial();
        for (int n = 0; n < layout.batch(); n++) {
            for (int c = 0; c < channels; c++) {
                int xi = (n * channels + c) * spatial;
                int vi = (n * 2 * channels + channels + c) * spatial;
                for (int s = 0; s < spatial; s++) {
                    float frac = (modelOutput[vi + s] + 1f) / 2f;
                    logVariance[xi + s] = frac * maxLog + (1f - frac) * minLog;
                }
            }
        }
    }
}
