package io.unclip.engine.pipeline;

import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.tensor.Tensor;

/**
 * GLIDE-style inpainting with the ordinary cascade: the prompt goes through the text encoder and
 * the prior as in text-to-image; the decoder and every upsampler replace the known pixels of x_t
 * at each step with the original noised to that step (the image and mask area-averaged to each
 * stage's resolution), and with the original itself at the end.
 *
 * @param image           {@code [1, 3, S, S]} in [-1, 1], square; resized to the output size if needed
 * @param mask            {@code [1, 1 or 3, S, S]} in [-1, 1] (as decoded from a PNG), same size as the
 *                        image: white = regenerate, black = keep
 * @param prompt          what to paint
 * @param numImages       1..8
 * @param seed            null = random
 * @param size            output size; null = the largest
 * @param overrides       per-stage overrides
 * @param previewInterval previews every this many steps, 0 = none
 */
public record InpaintRequest(Tensor image, Tensor mask, String prompt, int numImages, Long seed, Integer size,
                             StageOverrides overrides, int previewInterval) {

    public InpaintRequest {
        overrides = overrides == null ? StageOverrides.none() : overrides;
    }

    public static InpaintRequest of(Tensor image, Tensor mask, String prompt) {
        return new InpaintRequest(image, mask, prompt, 1, null, null, null, 0);
    }

    public void validate() {
        Requests.checkImage("image", image);
        if (image.dim(2) != image.dim(3)) {
            throw new InvalidRequestException("image", "must be square, got " + image.dim(3) + "x" + image.dim(2));
        }
        if (mask == null) {
            throw new InvalidRequestException("mask", "is required");
        }
        if (mask.rank() != 4 || mask.dim(0) != 1 || (mask.dim(1) != 1 && mask.dim(1) != 3)) {
            throw new InvalidRequestException("mask", "must be one image [1, 1 or 3, H, W], got " + mask);
        }
        if (mask.dim(2) != image.dim(2) || mask.dim(3) != image.dim(3)) {
            throw new InvalidRequestException("mask", "is " + mask.dim(3) + "x" + mask.dim(2) + ", the image is "
                    + image.dim(3) + "x" + image.dim(2) + "; they must match");
        }
        Requests.checkPrompt("prompt", prompt);
        Requests.checkRange("num_images", numImages, 1, Requests.MAX_IMAGES);
        Requests.checkRange("preview_interval", previewInterval, 0, Requests.MAX_PREVIEW_INTERVAL);
    }

    public InpaintRequest withNumImages(int n) {
        return new InpaintRequest(image, mask, prompt, n, seed, size, overrides, previewInterval);
    }

    public InpaintRequest withSeed(Long s) {
        return new InpaintRequest(image, mask, prompt, numImages, s, size, overrides, previewInterval);
    }

    public InpaintRequest withSize(Integer s) {
        return new InpaintRequest(image, mask, prompt, numImages, seed, s, overrides, previewInterval);
    }

    public InpaintRequest withOverrides(StageOverrides o) {
        return new InpaintRequest(image, mask, prompt, numImages, seed, size, o, previewInterval);
    }

    public InpaintRequest withPreviewInterval(int i) {
        return new InpaintRequest(image, mask, prompt, numImages, seed, size, overrides, i);
    }
}
