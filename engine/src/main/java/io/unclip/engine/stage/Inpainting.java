package io.unclip.engine.stage;

import io.unclip.engine.tensor.Tensor;

/**
 * Known pixels for GLIDE-style inpainting with an ordinary (non-inpainting) diffusion model: at
 * every step the known region of x_t is replaced by the original image noised to that step's
 * level, q(x_t | x_0) = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, and after the last step by the
 * original itself, so kept pixels come out unchanged.
 *
 * @param image [1 or N, C, H, W] in [-1, 1] at the stage's output resolution (one image is used
 *              for every row)
 * @param keep  [1 or N, 1, H, W] in [0, 1]: 1 = keep the original pixel, 0 = regenerate
 *              (values between blend)
 */
public record Inpainting(Tensor image, Tensor keep) {

    public Inpainting {
        if (image.rank() != 4 || keep.rank() != 4 || keep.dim(1) != 1 || image.dim(2) != keep.dim(2)
                || image.dim(3) != keep.dim(3)) {
            throw new IllegalArgumentException("inpainting needs image [N,C,H,W] and keep mask [N,1,H,W] of the"
                    + " same size, got " + image + " and " + keep);
        }
    }

    /** From a regenerate mask: {@code mask} [.., 1 or 3, H, W] in [0, 1] where 1 (white) = regenerate. */
    public static Inpainting fromRegenerateMask(Tensor image, Tensor mask) {
        int n = (int) mask.dim(0);
        int c = (int) mask.dim(1);
        int hw = (int) (mask.dim(2) * mask.dim(3));
        Tensor keep = Tensor.zeros(n, 1, mask.dim(2), mask.dim(3));
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < hw; i++) {
                float m = 0;
                for (int ch = 0; ch < c; ch++) {
                    m += mask.get((r * c + ch) * hw + i);
                }
                keep.set(r * hw + i, 1f - Math.min(1f, Math.max(0f, m / c)));
            }
        }
        return new Inpainting(image, keep);
    }

    public int size() {
        return (int) image.dim(2);
    }

    /** The same known image and mask at {@code size} x {@code size} (area-averaged when shrinking). */
    public Inpainting resized(int size) {
        if (size == size()) {
            return this;
        }
        return new Inpainting(ImageResize.toSize(image, size, ImageResize.Mode.BILINEAR),
                ImageResize.toSize(keep, size, ImageResize.Mode.BILINEAR));
    }
}
