package io.unclip.engine.diffusion;

import java.util.Arrays;

/**
 * A sample batch seen as [batch, channels, spatial]: images [N, C, H, W] have spatial = H*W,
 * vectors [N, D] have channels = D and spatial = 1. Element (n, c, s) sits at
 * {@code (n * channels + c) * spatial + s}; a model output with C' channels uses the same rule.
 */
public record SampleLayout(int batch, int channels, int spatial) {
    public SampleLayout {
        if (batch < 1 || channels < 1 || spatial < 1) {
            throw new IllegalArgumentException("batch, channels and spatial size must be >= 1, got "
                    + batch + ", " + channels + ", " + spatial);
        }
        if ((long) batch * channels * spatial * 4 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sample too large: " + batch + "x" + channels + "x" + spatial);
        }
    }

    /** The layout of a sample shape [N, C, ...] (rank >= 2). */
    public static SampleLayout of(long... shape) {
        if (shape == null || shape.length < 2) {
            throw new IllegalArgumentException("sample shape must be [N, C, ...] or [N, D], got "
                    + Arrays.toString(shape));
        }
        long spatial = 1;
        for (int i = 2; i < shape.length; i++) {
            spatial = Math.multiplyExact(spatial, shape[i]);
        }
        if (shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE || spatial > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sample shape too large: " + Arrays.toString(shape));
        }
        return new SampleLayout((int) shape[0], (int) shape[1], (int) spatial);
    }

    /** Elements of one sample (one batch row). */
    public int itemSize() {
        return channels * spatial;
    }

    /** Elements of the whole batch. */
    public int size() {
        return batch * itemSize();
    }
}
