package io.unclip.engine.pipeline;

import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.tensor.Tensor;

/**
 * Frames between two images, or from an image towards a prompt (DALL-E 2 section 3.2 and 3.3).
 * Every frame uses the same decoder and upsampler noise (image index 0's streams), so only the
 * embedding changes from frame to frame.
 *
 * <ul>
 *   <li>Two images: frame k is the decoding of slerp(z_a, z_b, k / (K - 1)) of their image
 *       embeddings.</li>
 *   <li>Towards a prompt (text diff): z_d = normalise(z_t(target) - z_t(source)) with the text
 *       embeddings of the target prompt and of a description of the source image
 *       ({@code sourcePrompt}; when null, the captioner's descriptive caption of the image if the
 *       bundle has a captioner, else the empty prompt); frame k decodes
 *       slerp(z_i / |z_i|, z_d, theta_k) * |z_i| with theta_k rising linearly from 0 to
 *       {@code maxAngle} (DALL-E 2 uses 0.25 .. 0.5).</li>
 * </ul>
 *
 * @param imageA          the start image {@code [1, 3, H, W]}
 * @param imageB          the end image, or null with {@code towards}
 * @param towards         the target prompt, or null with {@code imageB}
 * @param sourcePrompt    text describing imageA for the text diff; null = caption it
 * @param frames          K, including both ends, 2..32
 * @param maxAngle        the last frame's slerp position, in (0, 1] (towards only)
 * @param seed            null = random
 * @param size            output size; null = the largest
 * @param overrides       decoder and upsampler overrides
 * @param previewInterval previews every this many steps, 0 = none
 */
public record InterpolationRequest(Tensor imageA, Tensor imageB, String towards, String sourcePrompt, int frames,
                                   double maxAngle, Long seed, Integer size, StageOverrides overrides,
                                   int previewInterval) {
    public static final double DEFAULT_MAX_ANGLE = 0.5;
    public static final int DEFAULT_FRAMES = 8;

    public InterpolationRequest {
        overrides = overrides == null ? StageOverrides.none() : overrides;
    }

    public static InterpolationRequest between(Tensor a, Tensor b, int frames) {
        return new InterpolationRequest(a, b, null, null, frames, DEFAULT_MAX_ANGLE, null, null, null, 0);
    }

    public static InterpolationRequest towards(Tensor image, String prompt, int frames) {
        return new InterpolationRequest(image, null, prompt, null, frames, DEFAULT_MAX_ANGLE, null, null, null, 0);
    }

    public void validate() {
        Requests.checkImage("image_a", imageA);
        if ((imageB == null) == (towards == null)) {
            throw new InvalidRequestException("target", "give exactly one of image_b and towards_prompt");
        }
        if (imageB != null) {
            Requests.checkImage("image_b", imageB);
        } else {
            Requests.checkPrompt("towards_prompt", towards);
            if (sourcePrompt != null && !sourcePrompt.isEmpty()) {
                Requests.checkPrompt("source_prompt", sourcePrompt);
            }
            if (!(maxAngle > 0 && maxAngle <= 1)) {
                throw new InvalidRequestException("max_angle", "must be in (0, 1], got " + maxAngle);
            }
        }
        Requests.checkRange("frames", frames, Requests.MIN_FRAMES, Requests.MAX_FRAMES);
        Requests.checkRange("preview_interval", previewInterval, 0, Requests.MAX_PREVIEW_INTERVAL);
    }

    public InterpolationRequest withSeed(Long s) {
        return new InterpolationRequest(imageA, imageB, towards, sourcePrompt, frames, maxAngle, s, size, overrides,
                previewInterval);
    }

    public InterpolationRequest withSize(Integer s) {
        return new InterpolationRequest(imageA, imageB, towards, sourcePrompt, frames, maxAngle, seed, s, overrides,
                previewInterval);
    }

    public InterpolationRequest withOverrides(StageOverrides o) {
        return new InterpolationRequest(imageA, imageB, towards, sourcePrompt, frames, maxAngle, seed, size, o,
                previewInterval);
    }

    public InterpolationRequest withSourcePrompt(String p) {
        return new InterpolationRequest(imageA, imageB, towards, p, frames, maxAngle, seed, size, overrides,
                previewInterval);
    }

    public InterpolationRequest withMaxAngle(double a) {
        return new InterpolationRequest(imageA, imageB, towards, sourcePrompt, frames, a, seed, size, overrides,
                previewInterval);
    }

    public InterpolationRequest withPreviewInterval(int i) {
        return new InterpolationRequest(imageA, imageB, towards, sourcePrompt, frames, maxAngle, seed, size, overrides,
                i);
    }
}
