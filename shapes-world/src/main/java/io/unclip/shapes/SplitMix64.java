package io.unclip.shapes;

/**
 * The scene PRNG, implemented here (not java.util) so that no JDK change can alter a dataset.
 * SplitMix64 (Steele, Lea, Flood 2014), exactly:
 * <pre>
 *   GAMMA = 0x9E3779B97F4A7C15
 *   mix64(z): z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >>> 27)) * 0x94D049BB133111EB; return z ^ (z >>> 31)
 *   nextLong(): state += GAMMA; return mix64(state)
 *   nextDouble(): (nextLong() >>> 11) * 2^-53            (uniform in [0, 1))
 *   nextInt(n):   (int) floor(nextDouble() * n)          (uniform in 0..n-1)
 * </pre>
 * A scene's generator is seeded with {@code state = mix64(mix64(datasetSeed) + GAMMA * (index + 1))}
 * (64-bit wrapping arithmetic), so every (dataset seed, scene index) pair has its own stream and scene
 * {@code i} can be generated without generating scenes {@code 0..i-1}.
 */
public final class SplitMix64 {
    public static final long GAMMA = 0x9E3779B97F4A7C15L;
    private long state;

    public SplitMix64(long state) {
        this.state = state;
    }

    public static SplitMix64 forScene(long datasetSeed, long index) {
        return new SplitMix64(mix64(mix64(datasetSeed) + GAMMA * (index + 1)));
    }

    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public long nextLong() {
        state += GAMMA;
        return mix64(state);
    }

    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    public int nextInt(int n) {
        return (int) Math.floor(nextDouble() * n);
    }
}
