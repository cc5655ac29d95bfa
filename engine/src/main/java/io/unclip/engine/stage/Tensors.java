package io.unclip.engine.stage;

import io.unclip.engine.tensor.Tensor;
import java.util.Arrays;

/** Small tensor helpers the stages share: row gathering, concatenation, vector maths. */
public final class Tensors {
    private Tensors() {
    }

    /** Rows of {@code a} then rows of {@code b} (same trailing shape). */
    public static Tensor concatRows(Tensor a, Tensor b) {
        long[] sa = a.shape();
        long[] sb = b.shape();
        if (sa.length != sb.length || !Arrays.equals(Arrays.copyOfRange(sa, 1, sa.length),
                Arrays.copyOfRange(sb, 1, sb.length))) {
            throw new IllegalArgumentException("cannot stack " + a + " and " + b);
        }
        long[] shape = sa.clone();
        shape[0] = sa[0] + sb[0];
        Tensor out = Tensor.zeros(shape);
        out.buffer().put(0, a.buffer(), 0, a.size());
        out.buffer().put(a.size(), b.buffer(), 0, b.size());
        return out;
    }

    /** The rows of every part in order (same trailing shape). */
    public static Tensor concatRows(java.util.List<Tensor> parts) {
        long[] shape = parts.get(0).shape();
        long rows = 0;
        for (Tensor p : parts) {
            if (p.rank() != shape.length || !Arrays.equals(Arrays.copyOfRange(p.shape(), 1, shape.length),
                    Arrays.copyOfRange(shape, 1, shape.length))) {
                throw new IllegalArgumentException("cannot stack " + parts.get(0) + " and " + p);
            }
            rows += p.dim(0);
        }
        shape[0] = rows;
        Tensor out = Tensor.zeros(shape);
        int at = 0;
        for (Tensor p : parts) {
            out.buffer().put(at, p.buffer(), 0, p.size());
            at += p.size();
        }
        return out;
    }

    /** Row i of the result is row {@code rows[i]} of {@code t} (rows may repeat). */
    public static Tensor gatherRows(Tensor t, int... rows) {
        return TextConditioning.gatherRows(t, rows);
    }

    /** Row {@code row} of {@code t} as a {@code [1, ...]} tensor. */
    public static Tensor row(Tensor t, int row) {
        return gatherRows(t, row);
    }

    /** Image {@code index} ... {@code index + count - 1} of an NCHW tensor. */
    public static Tensor rows(Tensor t, int first, int count) {
        int[] rows = new int[count];
        Arrays.setAll(rows, i -> first + i);
        return gatherRows(t, rows);
    }

    /** Concatenates NCHW tensors with the same N, H, W along channels. */
    public static Tensor concatChannels(Tensor a, Tensor b) {
        if (a.rank() != 4 || b.rank() != 4 || a.dim(0) != b.dim(0) || a.dim(2) != b.dim(2) || a.dim(3) != b.dim(3)) {
            throw new IllegalArgumentException("cannot concatenate " + a + " and " + b + " along channels");
        }
        int n = (int) a.dim(0);
        int ia = a.itemSize();
        int ib = b.itemSize();
        Tensor out = Tensor.zeros(n, a.dim(1) + b.dim(1), a.dim(2), a.dim(3));
        for (int r = 0; r < n; r++) {
            out.buffer().put(r * (ia + ib), a.buffer(), r * ia, ia);
            out.buffer().put(r * (ia + ib) + ia, b.buffer(), r * ib, ib);
        }
        return out;
    }

    public static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    public static double norm(float[] a) {
        return Math.sqrt(dot(a, a));
    }

    /** Cosine similarity: the dot product of the L2-normalised vectors (0 if either is zero). */
    public static double cosine(float[] a, float[] b) {
        double na = norm(a);
        double nb = norm(b);
        return na == 0 || nb == 0 ? 0 : dot(a, b) / (na * nb);
    }

    /**
     * Spherical interpolation (Shoemake) between the directions of {@code a} and {@code b} at
     * {@code t} in [0, 1], with the norm interpolated linearly; falls back to linear
     * interpolation when the vectors are (anti)parallel within 1e-6.
     */
    public static float[] slerp(float[] a, float[] b, double t) {
        double na = norm(a);
        double nb = norm(b);
        float[] out = new float[a.length];
        if (na == 0 || nb == 0) {
            for (int i = 0; i < a.length; i++) {
                out[i] = (float) ((1 - t) * a[i] + t * b[i]);
            }
            return out;
        }
        double cos = Math.max(-1, Math.min(1, dot(a, b) / (na * nb)));
        double omega = Math.acos(cos);
        double s = Math.sin(omega);
        double norm = (1 - t) * na + t * nb;
        for (int i = 0; i < a.length; i++) {
            double ua = a[i] / na;
            double ub = b[i] / nb;
            double v = s < 1e-6 ? (1 - t) * ua + t * ub
                    : (Math.sin((1 - t) * omega) * ua + Math.sin(t * omega) * ub) / s;
            out[i] = (float) v;
        }
        double vn = 0;
        for (float v : out) {
            vn += (double) v * v;
        }
        vn = Math.sqrt(vn);
        for (int i = 0; i < out.length; i++) {
            out[i] = vn == 0 ? 0 : (float) (out[i] / vn * norm);
        }
        return out;
    }
}
