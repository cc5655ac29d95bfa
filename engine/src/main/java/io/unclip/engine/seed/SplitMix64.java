package io.unclip.engine.seed;

/**
 * SplitMix64 (Steele, Lea and Flood 2014; the generator behind java.util.SplittableRandom),
 * written out so that the stream is fixed by this file rather than by a JDK:
 * <pre>
 *   state += 0x9E3779B97F4A7C15
 *   return mix64(state)
 * </pre>
 * Not thread-safe; one instance per noise stream.
 */
public final class SplitMix64 {
    /** 2^64 / golden ratio, the SplitMix64 increment. */
    public static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private long state;

    public SplitMix64(long seed) {
        this.state = seed;
    }

    public long nextLong() {
        state += GOLDEN_GAMMA;
        return mix64(state);
    }

    /** Uniform in [0, 1) with 53 random bits: {@code (nextLong() >>> 11) * 2^-53}. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** The SplitMix64 finaliser (Stafford's "Mix13" variant of MurmurHash3's fmix64). */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
