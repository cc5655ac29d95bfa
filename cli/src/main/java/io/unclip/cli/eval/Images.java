package io.unclip.cli.eval;

import io.unclip.engine.tensor.Tensor;
import io.unclip.shapes.RgbImage;
import java.util.List;

/** Between the engine's image tensors ({@code [N, 3, H, W]}, RGB in [-1, 1]) and Shapes-World's 8-bit images. */
public final class Images {
    private Images() {
    }

    /**
     * Image {@code index} of {@code t} as 8 bits, quantised as the engine's PNG writer does it (clamp to [-1, 1],
     * {@code round((v + 1) * 127.5)}), so the image judged is the PNG written. Non-finite values read as 0.
     */
    public static RgbImage toRgb(Tensor t, int index) {
        long[] s = t.shape();
        if (s.length != 4 || s[1] != 3) {
            throw new IllegalArgumentException("expected [N, 3, H, W], got " + java.util.Arrays.toString(s));
        }
        int h = (int) s[2];
        int w = (int) s[3];
        int plane = h * w;
        int base = index * 3 * plane;
        RgbImage img = new RgbImage(w, h);
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < plane; i++) {
                float v = t.get(base + c * plane + i);
                float clamped = Float.isFinite(v) ? Math.max(-1f, Math.min(1f, v)) : -1f;
                img.data[i * 3 + c] = (byte) Math.round((clamped + 1f) * 127.5f);
            }
        }
        return img;
    }

    /** Images of one size as {@code [N, 3, H, W]} in [-1, 1] ({@code v / 255 * 2 - 1}, as the PNG reader does). */
    public static Tensor toTensor(List<RgbImage> images) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images");
        }
        int w = images.get(0).width;
        int h = images.get(0).height;
        int plane = w * h;
        Tensor t = Tensor.zeros(images.size(), 3, h, w);
        for (int n = 0; n < images.size(); n++) {
            RgbImage img = images.get(n);
            if (img.width != w || img.height != h) {
                throw new IllegalArgumentException("images of different sizes: " + img.width + "x" + img.height
                        + " and " + w + "x" + h);
            }
            int base = n * 3 * plane;
            for (int c = 0; c < 3; c++) {
                for (int i = 0; i < plane; i++) {
                    t.set(base + c * plane + i, (img.data[i * 3 + c] & 0xFF) / 255f * 2f - 1f);
                }
            }
        }
        return t;
    }
}
