package io.unclip.engine.stage;

import io.unclip.engine.tensor.Tensor;
import java.util.Locale;

/**
 * Resizing of NCHW float images, matching {@code torch.nn.functional.interpolate} (float32, CPU)
 * so that a model trained with PyTorch sees at inference the same low-resolution conditioning it
 * was trained on:
 * <ul>
 *   <li>{@link Mode#BILINEAR}: {@code mode='bilinear', align_corners=False}, no antialiasing:
 *       source coordinate {@code (i + 0.5) * in/out - 0.5}, clamped at 0, then linear weights
 *       between the two neighbours (the right one clamped to the edge);</li>
 *   <li>{@link Mode#BICUBIC}: {@code mode='bicubic', align_corners=False}: Keys' cubic
 *       convolution with A = -0.75 over 4x4 neighbours, indices clamped to the edge;</li>
 *   <li>{@link Mode#NEAREST}: {@code mode='nearest'}: source index {@code floor(i * in/out)};</li>
 *   <li>{@link Mode#AREA}: {@code mode='area'} (adaptive average pooling): each output pixel is
 *       the mean of the input window {@code [floor(i*in/out), ceil((i+1)*in/out))}.</li>
 * </ul>
 * With {@code antialias} ({@link #resize(Tensor, int, int, Mode, boolean)}), bilinear and bicubic
 * are {@code F.interpolate(..., antialias=True)} instead (what diffusers' UnCLIPPipeline uses
 * before super-resolution): PyTorch's separable filter, width first, then height; for output i the
 * centre is {@code (i + 0.5) * in/out}, the support {@code size/2 * max(in/out, 1)} (size 2 for
 * bilinear, 4 for bicubic), taps {@code j} in [centre - support + 0.5, centre + support + 0.5) cut to
 * the image, weights {@code filter((j - centre + 0.5) / max(in/out, 1))} normalised to sum 1, with the
 * triangle filter for bilinear and Keys' cubic with A = -0.5 (not -0.75) for bicubic. So even when
 * enlarging the result differs from the plain modes, near the borders and in the cubic's shape.
 * Checked against values computed by PyTorch (src/test/python/make_fixtures.py and
 * make_karlo_fixtures.py).
 */
public final class ImageResize {
    private ImageResize() {
    }

    public enum Mode {
        BILINEAR, BICUBIC, NEAREST, AREA;

        /** Parses "bilinear", "bicubic", "nearest" or "area". */
        public static Mode fromName(String name) {
            try {
                return valueOf(name.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new IllegalArgumentException("unknown resize mode '" + name
                        + "' (expected bilinear, bicubic, nearest or area)");
            }
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Resizes {@code [N, C, H, W]} to {@code [N, C, outH, outW]}. */
    public static Tensor resize(Tensor images, int outH, int outW, Mode mode) {
        return resize(images, outH, outW, mode, false);
    }

    /**
     * Resizes {@code [N, C, H, W]} to {@code [N, C, outH, outW]}, antialiased as torch's
     * {@code antialias=True} when asked (bilinear and bicubic only, as in torch).
     */
    public static Tensor resize(Tensor images, int outH, int outW, Mode mode, boolean antialias) {
        if (antialias && mode != Mode.BILINEAR && mode != Mode.BICUBIC) {
            throw new IllegalArgumentException("antialiasing applies to bilinear and bicubic resizes only, not "
                    + mode.id());
        }
        if (images.rank() != 4) {
            throw new IllegalArgumentException("expected an NCHW image tensor, got " + images);
        }
        if (outH < 1 || outW < 1) {
            throw new IllegalArgumentException("output size must be positive, got " + outH + "x" + outW);
        }
        int n = (int) images.dim(0);
        int c = (int) images.dim(1);
        int inH = (int) images.dim(2);
        int inW = (int) images.dim(3);
        float[] src = images.toArray();
        if (antialias) {
            return Tensor.of(antialiased(src, n * c, inH, inW, outH, outW, mode), n, c, outH, outW);
        }
        float[] dst = new float[n * c * outH * outW];
        Axis ah = axis(mode, inH, outH);
        Axis aw = axis(mode, inW, outW);
        int planeIn = inH * inW;
        int planeOut = outH * outW;
        for (int p = 0; p < n * c; p++) {
            int si = p * planeIn;
            int di = p * planeOut;
            if (mode == Mode.AREA) {
                area(src, si, inW, dst, di, outH, outW, ah, aw);
            } else {
                separable(src, si, inW, dst, di, outH, outW, ah, aw);
            }
        }
        return Tensor.of(dst, n, c, outH, outW);
    }

    /** A square resize with the usual choice: area when shrinking, {@code enlarge} when growing. */
    public static Tensor toSize(Tensor images, int size, Mode enlarge) {
        if (images.dim(2) == size && images.dim(3) == size) {
            return images;
        }
        boolean shrink = images.dim(2) >= size && images.dim(3) >= size;
        return resize(images, size, size, shrink ? Mode.AREA : enlarge);
    }

    /** The largest centred square of each image. */
    public static Tensor centerCropSquare(Tensor images) {
        int h = (int) images.dim(2);
        int w = (int) images.dim(3);
        if (h == w) {
            return images;
        }
        int s = Math.min(h, w);
        int top = (h - s) / 2;
        int left = (w - s) / 2;
        int n = (int) images.dim(0);
        int c = (int) images.dim(1);
        Tensor out = Tensor.zeros(n, c, s, s);
        float[] row = new float[s];
        for (int p = 0; p < n * c; p++) {
            for (int y = 0; y < s; y++) {
                images.buffer().get(p * h * w + (top + y) * w + left, row);
                out.buffer().put(p * s * s + y * s, row);
            }
        }
        return out;
    }

    /** Per output index: source indices and weights along one axis. */
    private record Axis(int[][] index, float[][] weight) {
    }

    private static Axis axis(Mode mode, int in, int out) {
        int[][] idx = new int[out][];
        float[][] w = new float[out][];
        float scale = (float) in / out;
        for (int i = 0; i < out; i++) {
            switch (mode) {
                case NEAREST -> {
                    int s = out == in ? i : out == 2 * in ? i >> 1 : Math.min((int) Math.floor(i * scale), in - 1);
                    idx[i] = new int[] {s};
                    w[i] = new float[] {1f};
                }
                case BILINEAR -> {
                    float real = scale * ((float) i + 0.5f) - 0.5f;
                    if (real < 0f) {
                        real = 0f;
                    }
                    int i0 = (int) real;
                    int offset = i0 < in - 1 ? 1 : 0;
                    float l1 = Math.min(Math.max(real - i0, 0f), 1f);
                    float l0 = 1f - l1;
                    idx[i] = new int[] {i0, i0 + offset};
                    w[i] = new float[] {l0, l1};
                }
                case BICUBIC -> {
                    float real = scale * ((float) i + 0.5f) - 0.5f;
                    int i0 = (int) Math.floor(real);
                    float t = Math.min(Math.max(real - i0, 0f), 1f);
                    idx[i] = new int[4];
                    for (int j = 0; j < 4; j++) {
                        idx[i][j] = Math.min(Math.max(i0 - 1 + j, 0), in - 1);
                    }
                    w[i] = cubicWeights(t);
                }
                case AREA -> {
                    int start = (int) Math.floor((double) i * in / out);
                    int end = (int) Math.ceil((double) (i + 1) * in / out);
                    idx[i] = new int[] {start, end};
                    w[i] = null;
                }
                default -> throw new AssertionError(mode);
            }
        }
        return new Axis(idx, w);
    }

    private static final float A = -0.75f;

    private static float[] cubicWeights(float t) {
        float x1 = t;
        float x2 = 1f - t;
        return new float[] {cubic2(x1 + 1f), cubic1(x1), cubic1(x2), cubic2(x2 + 1f)};
    }

    private static float cubic1(float x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    private static float cubic2(float x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }

    /** Height weights outside, width weights inside, accumulated in PyTorch's order. */
    private static void separable(float[] src, int si, int inW, float[] dst, int di, int outH, int outW,
                                  Axis ah, Axis aw) {
        for (int y = 0; y < outH; y++) {
            int[] hy = ah.index[y];
            float[] wy = ah.weight[y];
            for (int x = 0; x < outW; x++) {
                int[] hx = aw.index[x];
                float[] wx = aw.weight[x];
                float out = 0f;
                for (int a = 0; a < hy.length; a++) {
                    int rowStart = si + hy[a] * inW;
                    float t = src[rowStart + hx[0]] * wx[0];
                    for (int b = 1; b < hx.length; b++) {
                        t += src[rowStart + hx[b]] * wx[b];
                    }
                    out = a == 0 ? t * wy[0] : out + t * wy[a];
                }
                dst[di + y * outW + x] = out;
            }
        }
    }

    /** torch's separable antialiased resize: every plane along the width, then along the height. */
    private static float[] antialiased(float[] src, int planes, int inH, int inW, int outH, int outW, Mode mode) {
        Taps alongW = taps(mode, inW, outW);
        Taps alongH = taps(mode, inH, outH);
        float[] wide = new float[planes * inH * outW];
        for (int row = 0; row < planes * inH; row++) {
            for (int x = 0; x < outW; x++) {
                wide[row * outW + x] = alongW.apply(src, row * inW, 1, x);
            }
        }
        float[] dst = new float[planes * outH * outW];
        for (int p = 0; p < planes; p++) {
            int from = p * inH * outW;
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    dst[(p * outH + y) * outW + x] = alongH.apply(wide, from + x, outW, y);
                }
            }
        }
        return dst;
    }

    /** Per output index: the first input index and the normalised weights of its taps. */
    private record Taps(int[] first, float[][] weight) {
        float apply(float[] v, int start, int stride, int i) {
            float[] w = weight[i];
            int at = start + first[i] * stride;
            float sum = v[at] * w[0];
            for (int j = 1; j < w.length; j++) {
                sum += v[at + j * stride] * w[j];
            }
            return sum;
        }
    }

    /** PyTorch's _compute_weights_aa, in float32 where PyTorch uses float32. */
    private static Taps taps(Mode mode, int in, int out) {
        float scale = (float) in / out;
        float widen = scale >= 1f ? scale : 1f;
        float support = (mode == Mode.BICUBIC ? 2f : 1f) * widen;
        int[] first = new int[out];
        float[][] weight = new float[out][];
        for (int i = 0; i < out; i++) {
            float center = (float) (scale * (i + 0.5));
            int lo = Math.max((int) (center - support + 0.5), 0);
            int hi = Math.min((int) (center + support + 0.5), in);
            float[] w = new float[Math.max(hi - lo, 1)];
            float total = 0f;
            for (int j = 0; j < hi - lo; j++) {
                w[j] = filter(mode, (float) ((j + lo - center + 0.5) / widen));
                total += w[j];
            }
            if (total != 0f) {
                for (int j = 0; j < w.length; j++) {
                    w[j] /= total;
                }
            }
            first[i] = Math.min(lo, in - 1);
            weight[i] = w;
        }
        return new Taps(first, weight);
    }

    private static float filter(Mode mode, float x) {
        double a = Math.abs((double) x);
        if (mode == Mode.BILINEAR) {
            return a < 1 ? (float) (1 - a) : 0f;
        }
        double k = -0.5; // Keys' cubic as PIL and torch's antialiased bicubic use it
        if (a < 1) {
            return (float) (((k + 2) * a - (k + 3)) * a * a + 1);
        }
        if (a < 2) {
            return (float) ((((a - 5) * a + 8) * a - 4) * k);
        }
        return 0f;
    }

    private static void area(float[] src, int si, int inW, float[] dst, int di, int outH, int outW,
                             Axis ah, Axis aw) {
        for (int y = 0; y < outH; y++) {
            int y0 = ah.index[y][0];
            int y1 = ah.index[y][1];
            for (int x = 0; x < outW; x++) {
                int x0 = aw.index[x][0];
                int x1 = aw.index[x][1];
                float sum = 0f;
                for (int yy = y0; yy < y1; yy++) {
                    for (int xx = x0; xx < x1; xx++) {
                        sum += src[si + yy * inW + xx];
                    }
                }
                dst[di + y * outW + x] = sum / (y1 - y0) / (x1 - x0);
            }
        }
    }
}
