package io.unclip.engine.pipeline;

import io.unclip.engine.stage.SamplerOverrides;

/**
 * Text to image.
 *
 * @param prompt          1..256 characters, not blank, no control characters but tab and newline
 * @param numImages       1..8, sampled as one batch
 * @param seed            any 64-bit value (reported unsigned); null = random, reported in the result
 * @param size            output side in pixels: one of the bundle's reachable sizes (the decoder's
 *                        output and each upsampler's); null = the largest
 * @param overrides       per-stage sampler overrides
 * @param previewInterval x0 previews every this many steps of the decoder and upsamplers, 0 = none
 */
public record GenerationRequest(String prompt, int numImages, Long seed, Integer size, StageOverrides overrides,
                                int previewInterval) {

    public GenerationRequest {
        overrides = overrides == null ? StageOverrides.none() : overrides;
    }

    /** One image of {@code prompt}, random seed, largest size, manifest defaults. */
    public static GenerationRequest of(String prompt) {
        return new GenerationRequest(prompt, 1, null, null, StageOverrides.none(), 0);
    }

    /** @throws io.unclip.engine.stage.InvalidRequestException naming the first bad field */
    public void validate() {
        Requests.checkPrompt("prompt", prompt);
        Requests.checkRange("num_images", numImages, 1, Requests.MAX_IMAGES);
        Requests.checkRange("preview_interval", previewInterval, 0, Requests.MAX_PREVIEW_INTERVAL);
    }

    public GenerationRequest withPrompt(String p) {
        return new GenerationRequest(p, numImages, seed, size, overrides, previewInterval);
    }

    public GenerationRequest withNumImages(int n) {
        return new GenerationRequest(prompt, n, seed, size, overrides, previewInterval);
    }

    public GenerationRequest withSeed(Long s) {
        return new GenerationRequest(prompt, numImages, s, size, overrides, previewInterval);
    }

    public GenerationRequest withSize(Integer s) {
        return new GenerationRequest(prompt, numImages, seed, s, overrides, previewInterval);
    }

    public GenerationRequest withOverrides(StageOverrides o) {
        return new GenerationRequest(prompt, numImages, seed, size, o, previewInterval);
    }

    public GenerationRequest withPrior(SamplerOverrides o) {
        return withOverrides(overrides.withPrior(o));
    }

    public GenerationRequest withDecoder(SamplerOverrides o) {
        return withOverrides(overrides.withDecoder(o));
    }

    public GenerationRequest withUpsampler(SamplerOverrides o) {
        return withOverrides(overrides.withUpsampler(o));
    }

    public GenerationRequest withPreviewInterval(int i) {
        return new GenerationRequest(prompt, numImages, seed, size, overrides, i);
    }

}
