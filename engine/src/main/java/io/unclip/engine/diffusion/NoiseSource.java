package io.unclip.engine.diffusion;

/**
 * Standard normal draws, one independent stream per batch row, so a row's draws never depend on
 * the other rows in the batch.
 *
 * <p>Order of use by {@link DiffusionSampler}: for every row, first the initial noise x_T (one
 * sample's worth of values, when the sampler draws it), then one sample's worth for each step
 * whose {@link DenoisingStep#usesNoise} is true, in sampling order.
 */
@FunctionalInterface
public interface NoiseSource {
    /** Writes the next {@code length} draws of row {@code row}'s stream into dst[offset ..]. */
    void fill(int row, float[] dst, int offset, int length);
}
