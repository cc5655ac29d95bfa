package io.unclip.engine.seed;

import java.nio.charset.StandardCharsets;

/**
 * The one derivation of per-image noise streams from a request seed.
 *
 * <p>Every image of every stage has its own stream, so a stage can be re-run alone and an image
 * comes out the same whether generated alone or in any batch. The stream seed is
 * <pre>
 *   absorb(h, v)  = mix64((h ^ v) + 0x9E3779B97F4A7C15)          (64-bit wrapping arithmetic)
 *   mix64(z)      = z ^= z &gt;&gt;&gt; 30; z *= 0xBF58476D1CE4E5B9;
 *                   z ^= z &gt;&gt;&gt; 27; z *= 0x94D049BB133111EB; z ^= z &gt;&gt;&gt; 31
 *   fnv1a64(b[])  = h = 0xCBF29CE484222325; for each byte: h ^= byte &amp; 0xFF; h *= 0x100000001B3
 *
 *   streamSeed = absorb(absorb(absorb(absorb(0, requestSeed),
 *                                     fnv1a64(UTF-8 bytes of stageName)),
 *                              imageIndex),          (sign-extended to 64 bits)
 *                       cascadeStep)                 (sign-extended to 64 bits)
 * </pre>
 * The stream itself is {@link GaussianStream}{@code (streamSeed)}: SplitMix64 with initial state
 * streamSeed, turned into normals by Marsaglia's polar method. A stage's initial noise x_T for
 * the image takes the stream's first values (one sample's worth, row-major), then every
 * noise-using step takes the next sample's worth, in sampling order.
 *
 * <p>{@code stageName} names the model (e.g. "prior", "decoder", "upsampler-256");
 * {@code cascadeStep} is the stage's 0-based position in the cascade; {@code imageIndex} is the
 * image's 0-based index within the request, not within a batch.
 */
public final class NoiseSeeds {
    private static final long FNV_OFFSET = 0xCBF29CE484222325L;
    private static final long FNV_PRIME = 0x100000001B3L;

    private NoiseSeeds() {
    }

    /** The seed of one image's noise stream for one stage, as documented above. */
    public static long streamSeed(long requestSeed, String stageName, int imageIndex, int cascadeStep) {
        if (stageName == null || stageName.isEmpty()) {
            throw new IllegalArgumentException("stage name is required");
        }
        if (imageIndex < 0 || cascadeStep < 0) {
            throw new IllegalArgumentException("image index and cascade step must be >= 0, got "
                    + imageIndex + " and " + cascadeStep);
        }
        long h = absorb(0L, requestSeed);
        h = absorb(h, fnv1a64(stageName.getBytes(StandardCharsets.UTF_8)));
        h = absorb(h, imageIndex);
        return absorb(h, cascadeStep);
    }

    /** The Gaussian stream of one image for one stage. */
    public static GaussianStream stream(long requestSeed, String stageName, int imageIndex, int cascadeStep) {
        return new GaussianStream(streamSeed(requestSeed, stageName, imageIndex, cascadeStep));
    }

    static long absorb(long h, long v) {
        return SplitMix64.mix64((h ^ v) + SplitMix64.GOLDEN_GAMMA);
    }

    static long fnv1a64(byte[] bytes) {
        long h = FNV_OFFSET;
        for (byte b : bytes) {
            h ^= b & 0xFF;
            h *= FNV_PRIME;
        }
        return h;
    }
}
