package io.unclip.engine.seed;

/**
 * An endless stream of standard normal draws from a {@link SplitMix64}, by Marsaglia's polar
 * method, independent of any JDK's {@code nextGaussian}:
 * <pre>
 *   repeat:
 *     u = 2 * nextDouble() - 1;  v = 2 * nextDouble() - 1;  s = u*u + v*v
 *   until 0 &lt; s &lt; 1
 *   m = sqrt(-2 * log(s) / s)          (StrictMath.log: fdlibm, bit-exact everywhere)
 *   emit (float) (u * m), then (float) (v * m)
 * </pre>
 * All arithmetic is IEEE double, so every JVM produces the same floats. Draws are consumed in
 * order, so how a consumer chunks its reads never changes the values.
 */
public final class GaussianStream {
    private final SplitMix64 random;
    private boolean hasSpare;
    private double spare;

    public GaussianStream(long seed) {
        this.random = new SplitMix64(seed);
    }

    public double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spare;
        }
        double u;
        double v;
        double s;
        do {
            u = 2 * random.nextDouble() - 1;
            v = 2 * random.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        double m = StrictMath.sqrt(-2 * StrictMath.log(s) / s);
        spare = v * m;
        hasSpare = true;
        return u * m;
    }

    /** Writes the next {@code length} draws, as floats, into dst[offset ..]. */
    public void fill(float[] dst, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > dst.length) {
            throw new IllegalArgumentException("range [" + offset + ", " + (offset + length)
                    + ") outside array of " + dst.length);
        }
        for (int i = offset; i < offset + length; i++) {
            dst[i] = (float) nextGaussian();
        }
    }
}
