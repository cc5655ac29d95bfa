package io.unclip.engine.image;

import io.unclip.engine.tensor.Tensor;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.util.Arrays;

/** Conversions between NCHW float tensors in [-1, 1] and 8-bit RGB images. */
final class Pixels {
    private Pixels() {
    }

    /** Image {@code index} of a {@code [N,3,H,W]} tensor (or the image of a {@code [3,H,W]} one). */
    static BufferedImage toImage(Tensor t, int index) {
        long[] s = t.shape();
        if (s.length == 3) {
            s = new long[] {1, s[0], s[1], s[2]};
        }
        if (s.length != 4 || s[1] != 3) {
            throw new IllegalArgumentException("expected an RGB image tensor [N,3,H,W] or [3,H,W], got "
                    + Arrays.toString(t.shape()));
        }
        if (index < 0 || index >= s[0]) {
            throw new IllegalArgumentException("image index " + index + " out of range for batch of " + s[0]);
        }
        int h = (int) s[2];
        int w = (int) s[3];
        if (h == 0 || w == 0) {
            throw new IllegalArgumentException("empty image " + Arrays.toString(t.shape()));
        }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        byte[] bgr = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        int plane = h * w;
        int base = index * 3 * plane;
        for (int c = 0; c < 3; c++) {
            int channelOffset = 2 - c; // BGR byte order
            for (int i = 0; i < plane; i++) {
                float v = t.get(base + c * plane + i);
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("image " + index + " has a non-finite value (" + v + ") in channel "
                            + c + " at pixel " + (i % w) + "," + (i / w));
                }
                bgr[i * 3 + channelOffset] = (byte) quantize(v);
            }
        }
        return img;
    }

    /** [-1, 1] to 0..255, clamped, rounded to nearest. */
    static int quantize(float v) {
        float clamped = Math.max(-1f, Math.min(1f, v));
        return Math.round((clamped + 1f) * 127.5f);
    }

    /** Any decoded PNG to {@code [1,3,H,W]} in [-1, 1]; alpha is dropped, 16-bit samples keep precision. */
    static Tensor toTensor(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        Tensor t = Tensor.zeros(1, 3, h, w);
        int plane = w * h;
        Raster r = img.getRaster();
        boolean component = img.getColorModel() instanceof ComponentColorModel;
        int colorSpace = img.getColorModel().getColorSpace().getType();
        if (component && colorSpace == ColorSpace.TYPE_RGB && r.getNumBands() >= 3) {
            float max = (1 << img.getColorModel().getComponentSize(0)) - 1;
            int[] row = new int[w];
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < h; y++) {
                    r.getSamples(0, y, w, 1, c, row);
                    for (int x = 0; x < w; x++) {
                        t.set(c * plane + y * w + x, row[x] / max * 2f - 1f);
                    }
                }
            }
        } else if (component && colorSpace == ColorSpace.TYPE_GRAY) {
            // read samples directly: getRGB would treat PNG gray as linear and re-gamma it
            float max = (1 << img.getColorModel().getComponentSize(0)) - 1;
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    float v = row[x] / max * 2f - 1f;
                    for (int c = 0; c < 3; c++) {
                        t.set(c * plane + y * w + x, v);
                    }
                }
            }
        } else { // palette and anything else: let the colour model map to sRGB
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                img.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int p = row[x];
                    t.set(y * w + x, ((p >> 16) & 0xff) / 127.5f - 1f);
                    t.set(plane + y * w + x, ((p >> 8) & 0xff) / 127.5f - 1f);
                    t.set(2 * plane + y * w + x, (p & 0xff) / 127.5f - 1f);
                }
            }
        }
        return t;
    }
}
