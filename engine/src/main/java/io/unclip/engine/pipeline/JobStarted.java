package io.unclip.engine.pipeline;

/**
 * A cascade run began.
 *
 * @param mode      "generate", "variations", "interpolate" or "inpaint"
 * @param seed      the seed in use (unsigned 64-bit; see {@link Requests#seedText})
 * @param numImages images (or frames) the run makes
 * @param size      output side in pixels
 */
public record JobStarted(String mode, long seed, int numImages, int size) {
}
