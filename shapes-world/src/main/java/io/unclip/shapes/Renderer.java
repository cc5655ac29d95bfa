package io.unclip.shapes;

import java.util.List;

/**
 * Renders scenes exactly per the spec, with integer arithmetic after the inside tests so that every size is
 * bit-reproducible:
 * <ul>
 *   <li><b>Master</b> ({@link #MASTER} = 512): 4x4 supersampling. Pixel {@code (px, py)} has the 16 sample points
 *       {@code x = (4*px + i + 0.5) / 2048}, {@code y = (4*py + j + 0.5) / 2048}, {@code i, j in 0..3}. A sample takes
 *       the colour of the last object (scene order) that contains it, else the background. The pixel is the box
 *       filter of its samples, per channel {@code floor((sum of 16 sample values + 8) / 16)}. Only samples inside an
 *       object's bounding box are tested; the rest of the canvas is background.</li>
 *   <li><b>Smaller sizes</b> {@code n} that divide 512 (256, 128, 64, 32, ...): area average of {@code f x f} master
 *       blocks, {@code f = 512/n}: {@code floor((sum + f*f/2) / (f*f))}.</li>
 *   <li>Other sizes below 512: exact area-weighted average of the master (pixel {@code x} covers master interval
 *       {@code [x*512/n, (x+1)*512/n)}), rounded half up.</li>
 *   <li>Sizes above 512 (an extension beyond the spec): rendered directly with the same 4x4 supersampling.</li>
 * </ul>
 */
public final class Renderer {
    public static final int MASTER = 512;
    public static final int SS = 4;

    private Renderer() {}

    /** Renders the scene at {@code size x size}. */
    public static RgbImage render(Scene scene, int size) {
        if (size <= 0) throw new IllegalArgumentException("size must be positive: " + size);
        if (size >= MASTER) return renderSupersampled(scene, size);
        return downsample(renderSupersampled(scene, MASTER), size);
    }

    /** The 512x512 master. */
    public static RgbImage renderMaster(Scene scene) {
        return renderSupersampled(scene, MASTER);
    }

    /** Renders several sizes from one master (sizes above 512 are rendered directly). */
    public static RgbImage[] render(Scene scene, int[] sizes) {
        RgbImage master = null;
        RgbImage[] out = new RgbImage[sizes.length];
        for (int k = 0; k < sizes.length; k++) {
            int n = sizes[k];
            if (n > MASTER) out[k] = renderSupersampled(scene, n);
            else {
                if (master == null) master = renderSupersampled(scene, MASTER);
                out[k] = n == MASTER ? master : downsample(master, n);
            }
        }
        return out;
    }

    /** 4x4-supersampled rendering at {@code n x n}. */
    public static RgbImage renderSupersampled(Scene scene, int n) {
        int[] bg = scene.background().rgb();
        RgbImage img = new RgbImage(n, n);
        byte[] d = img.data;
        for (int i = 0; i < d.length; i += 3) {
            d[i] = (byte) bg[0];
            d[i + 1] = (byte) bg[1];
            d[i + 2] = (byte) bg[2];
        }
        List<SceneObject> objs = scene.objects();
        int ns = n * SS; // sample grid side
        double inv = 1.0 / ns;
        for (int k = 0; k < objs.size(); k++) {
            SceneObject o = objs.get(k);
            // sample index s has coordinate (s + 0.5) / ns; samples with coordinate in [min, max]
            int sx0 = Math.max(0, (int) Math.ceil(o.minX() * ns - 0.5));
            int sx1 = Math.min(ns - 1, (int) Math.floor(o.maxX() * ns - 0.5));
            int sy0 = Math.max(0, (int) Math.ceil(o.minY() * ns - 0.5));
            int sy1 = Math.min(ns - 1, (int) Math.floor(o.maxY() * ns - 0.5));
            if (sx0 > sx1 || sy0 > sy1) continue;
            int px0 = sx0 / SS, px1 = sx1 / SS, py0 = sy0 / SS, py1 = sy1 / SS;
            // every pixel touching this object's bounding box is recomputed from its 16 samples, each sample
            // resolved to its owner; pixels touched by two boxes get the same value twice (idempotent)
            for (int py = py0; py <= py1; py++) {
                for (int px = px0; px <= px1; px++) {
                    int idx = (py * n + px) * 3;
                    if (onlyObject(objs, k, px, py, inv)) {
                        // fast path, identical result: only this object's box meets the pixel's samples
                        int c = coverage(o, px, py, inv);
                        if (c == 0) continue;
                        ObjectColor col = o.color();
                        d[idx] = (byte) ((col.r * c + bg[0] * (16 - c) + 8) >> 4);
                        d[idx + 1] = (byte) ((col.g * c + bg[1] * (16 - c) + 8) >> 4);
                        d[idx + 2] = (byte) ((col.b * c + bg[2] * (16 - c) + 8) >> 4);
                        continue;
                    }
                    int[] sum = pixelSum(objs, bg, px, py, inv);
                    d[idx] = (byte) ((sum[0] + 8) >> 4);
                    d[idx + 1] = (byte) ((sum[1] + 8) >> 4);
                    d[idx + 2] = (byte) ((sum[2] + 8) >> 4);
                }
            }
        }
        return img;
    }

    /** True when no object other than {@code k} has a bounding box meeting the pixel's sample points. */
    private static boolean onlyObject(List<SceneObject> objs, int k, int px, int py, double inv) {
        double x0 = (px * SS + 0.5) * inv, x1 = (px * SS + SS - 0.5) * inv;
        double y0 = (py * SS + 0.5) * inv, y1 = (py * SS + SS - 0.5) * inv;
        for (int j = 0; j < objs.size(); j++) {
            if (j == k) continue;
            SceneObject o = objs.get(j);
            if (o.maxX() >= x0 && o.minX() <= x1 && o.maxY() >= y0 && o.minY() <= y1) return false;
        }
        return true;
    }

    /**
     * Number of the pixel's 16 samples inside the object (bounding-box test, then the shape test, as in
     * {@link #pixelSum}). Shapes are convex, so when the four corner samples are inside, all 16 are.
     */
    private static int coverage(SceneObject o, int px, int py, double inv) {
        double x0 = (px * SS + 0.5) * inv, x1 = (px * SS + SS - 0.5) * inv;
        double y0 = (py * SS + 0.5) * inv, y1 = (py * SS + SS - 0.5) * inv;
        if (inside(o, x0, y0) && inside(o, x1, y0) && inside(o, x0, y1) && inside(o, x1, y1)) return SS * SS;
        int c = 0;
        for (int j = 0; j < SS; j++) {
            double y = (py * SS + j + 0.5) * inv;
            for (int i = 0; i < SS; i++) {
                double x = (px * SS + i + 0.5) * inv;
                if (inside(o, x, y)) c++;
            }
        }
        return c;
    }

    private static boolean inside(SceneObject o, double x, double y) {
        return x >= o.minX() && x <= o.maxX() && y >= o.minY() && y <= o.maxY() && o.contains(x, y);
    }

    /** Sum over the 16 samples of a pixel of the sample colours (last containing object wins, else background). */
    private static int[] pixelSum(List<SceneObject> objs, int[] bg, int px, int py, double inv) {
        int r = 0, g = 0, b = 0;
        for (int j = 0; j < SS; j++) {
            double y = (py * SS + j + 0.5) * inv;
            for (int i = 0; i < SS; i++) {
                double x = (px * SS + i + 0.5) * inv;
                int owner = -1;
                for (int k = objs.size() - 1; k >= 0; k--) {
                    SceneObject o = objs.get(k);
                    if (inside(o, x, y)) {
                        owner = k;
                        break;
                    }
                }
                if (owner < 0) {
                    r += bg[0];
                    g += bg[1];
                    b += bg[2];
                } else {
                    ObjectColor c = objs.get(owner).color();
                    r += c.r;
                    g += c.g;
                    b += c.b;
                }
            }
        }
        return new int[] {r, g, b};
    }

    /** Area-average downsample of a square image to {@code n x n} (see the class comment). */
    public static RgbImage downsample(RgbImage src, int n) {
        if (src.width != src.height) throw new IllegalArgumentException("square images only");
        int m = src.width;
        if (n == m) return src;
        if (n > m) throw new IllegalArgumentException("cannot downsample " + m + " to " + n);
        if (m % n == 0) return blockAverage(src, m / n);
        return areaAverage(src, n);
    }

    private static RgbImage blockAverage(RgbImage src, int f) {
        int m = src.width, n = m / f, area = f * f, half = area / 2;
        RgbImage out = new RgbImage(n, n);
        byte[] s = src.data, d = out.data;
        int[] acc = new int[n * 3];
        for (int oy = 0; oy < n; oy++) {
            java.util.Arrays.fill(acc, 0);
            for (int y = oy * f; y < (oy + 1) * f; y++) {
                int row = y * m * 3;
                for (int x = 0; x < m; x++) {
                    int si = row + x * 3, ai = (x / f) * 3;
                    acc[ai] += s[si] & 0xFF;
                    acc[ai + 1] += s[si + 1] & 0xFF;
                    acc[ai + 2] += s[si + 2] & 0xFF;
                }
            }
            int drow = oy * n * 3;
            for (int i = 0; i < n * 3; i++) d[drow + i] = (byte) ((acc[i] + half) / area);
        }
        return out;
    }

    private static RgbImage areaAverage(RgbImage src, int n) {
        int m = src.width;
        double scale = (double) m / n;
        // separable weights: output index o covers [o*scale, (o+1)*scale)
        double[][] wts = new double[n][];
        int[] first = new int[n];
        for (int o = 0; o < n; o++) {
            double a = o * scale, b = (o + 1) * scale;
            int i0 = (int) Math.floor(a), i1 = Math.min(m - 1, (int) Math.ceil(b) - 1);
            first[o] = i0;
            wts[o] = new double[i1 - i0 + 1];
            for (int i = i0; i <= i1; i++) wts[o][i - i0] = (Math.min(b, i + 1) - Math.max(a, i)) / scale;
        }
        RgbImage out = new RgbImage(n, n);
        for (int oy = 0; oy < n; oy++) {
            for (int ox = 0; ox < n; ox++) {
                double r = 0, g = 0, b = 0;
                for (int jy = 0; jy < wts[oy].length; jy++) {
                    int y = first[oy] + jy;
                    for (int jx = 0; jx < wts[ox].length; jx++) {
                        int x = first[ox] + jx;
                        double w = wts[oy][jy] * wts[ox][jx];
                        int si = (y * m + x) * 3;
                        r += w * (src.data[si] & 0xFF);
                        g += w * (src.data[si + 1] & 0xFF);
                        b += w * (src.data[si + 2] & 0xFF);
                    }
                }
                int di = (oy * n + ox) * 3;
                out.data[di] = (byte) Math.min(255, (int) Math.floor(r + 0.5));
                out.data[di + 1] = (byte) Math.min(255, (int) Math.floor(g + 0.5));
                out.data[di + 2] = (byte) Math.min(255, (int) Math.floor(b + 0.5));
            }
        }
        return out;
    }
}
