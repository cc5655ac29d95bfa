package io.unclip.engine.pipeline;

import io.unclip.engine.tensor.Tensor;

/**
 * Variations of an image (DALL-E 2 section 3.1): its CLIP image embedding replaces the prior's
 * output; the decoder's noise makes the images differ.
 *
 * @param image           {@code [1, 3, H, W]} in [-1, 1], any size (centre-cropped and resized to the
 *                        image encoder's input)
 * @param numImages       1..8
 * @param seed            null = random
 * @param size            output size, one of the bundle's reachable sizes; null = the largest
 * @param overrides       decoder and upsampler overrides (the prior's are ignored)
 * @param prompt          optional text for the decoder's text conditioning; null = the empty prompt
 * @param previewInterval previews every this many steps, 0 = none
 */
public record VariationsRequest(Tensor image, int numImages, Long seed, Integer size, StageOverrides overrides,
                                String prompt, int previewInterval) {

    public VariationsRequest {
        overrides = overrides == null ? StageOverrides.none() : overrides;
    }

    public static VariationsRequest of(Tensor image, int numImages) {
        return new VariationsRequest(image, numImages, null, null, null, null, 0);
    }

    public void validate() {
        Requests.checkImage("image", image);
        Requests.checkRange("num_images", numImages, 1, Requests.MAX_IMAGES);
        if (prompt != null) {
            Requests.checkPrompt("prompt", prompt);
        }
        Requests.checkRange("preview_interval", previewInterval, 0, Requests.MAX_PREVIEW_INTERVAL);
    }

    public VariationsRequest withSeed(Long s) {
        return new VariationsRequest(image, numImages, s, size, overrides, prompt, previewInterval);
    }

    public VariationsRequest withSize(Integer s) {
        return new VariationsRequest(image, numImages, seed, s, overrides, prompt, previewInterval);
    }

    public VariationsRequest withOverrides(StageOverrides o) {
        return new VariationsRequest(image, numImages, seed, size, o, prompt, previewInterval);
    }

    public VariationsRequest withPrompt(String p) {
        return new VariationsRequest(image, numImages, seed, size, overrides, p, previewInterval);
    }

    public VariationsRequest withPreviewInterval(int i) {
        return new VariationsRequest(image, numImages, seed, size, overrides, prompt, i);
    }
}
