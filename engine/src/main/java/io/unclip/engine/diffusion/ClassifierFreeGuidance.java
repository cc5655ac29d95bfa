package io.unclip.engine.diffusion;

import io.unclip.engine.tensor.Tensor;

/**
 * GLIDE-style classifier-free guidance (Ho and Salimans 2021; GLIDE {@code model_fn}). The model
 * runs once on 2N rows, conditional rows 0..N-1 then unconditional rows N..2N-1. The first C
 * channels become {@code uncond + s * (cond - uncond)}; any further (variance) channels are taken
 * from the conditional rows.
 */
public final class ClassifierFreeGuidance {
    private final double scale;

    public ClassifierFreeGuidance(double scale) {
        if (Double.isNaN(scale) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException("guidance scale must be finite, got " + scale);
        }
        this.scale = scale;
    }

    public double scale() {
        return scale;
    }

    /**
     * Combines a [2N, outChannels, spatial] batched output into [N, outChannels, spatial].
     *
     * @param batch       N, the number of guided samples
     * @param channels    C, the channels that are guided (the prediction channels)
     * @param outChannels channels per output row (C, or 2C with learned variance)
     */
    public void combine(float[] batched, int batch, int channels, int outChannels, int spatial, float[] dst) {
        if (batch < 1 || channels < 1 || outChannels < channels || spatial < 1) {
            throw new IllegalArgumentException("bad guidance layout: batch " + batch + ", channels " + channels
                    + ", output channels " + outChannels + ", spatial " + spatial);
        }
        int rowSize = outChannels * spatial;
        int guidedSize = channels * spatial;
        if (batched.length != 2 * batch * rowSize || dst.length != batch * rowSize) {
            throw new IllegalArgumentException("guidance needs " + 2 * batch * rowSize + " input and "
                    + batch * rowSize + " output values, got " + batched.length + " and " + dst.length);
        }
        float s = (float) scale;
        int uncondOffset = batch * rowSize;
        for (int n = 0; n < batch; n++) {
            int row = n * rowSize;
            if (scale == 1.0) {
                // s = 1 is exactly the conditional output; skip the rounding of u + (c - u).
                System.arraycopy(batched, row, dst, row, guidedSize);
            } else {
                for (int i = row; i < row + guidedSize; i++) {
                    float cond = batched[i];
                    float uncond = batched[uncondOffset + i];
                    dst[i] = uncond + s * (cond - uncond);
                }
            }
            System.arraycopy(batched, row + guidedSize, dst, row + guidedSize, rowSize - guidedSize);
        }
    }

    /** Tensor form of {@link #combine(float[], int, int, int, int, float[])}: [2N, C', ...] to [N, C', ...]. */
    public Tensor combine(Tensor batched, int channels) {
        long[] shape = batched.shape();
        if (shape.length < 2 || shape[0] % 2 != 0) {
            throw new IllegalArgumentException("guided output must be [2N, C', ...], got " + batched);
        }
        shape[0] /= 2;
        SampleLayout half = SampleLayout.of(shape);
        float[] dst = new float[half.size()];
        combine(batched.toArray(), half.batch(), channels, half.channels(), half.spatial(), dst);
        return Tensor.of(dst, shape);
    }

    @Override
    public String toString() {
        return "ClassifierFreeGuidance[" + scale + "]";
    }
}
