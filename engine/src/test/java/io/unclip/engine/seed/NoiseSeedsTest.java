package io.unclip.engine.seed;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NoiseSeedsTest {
    private static float[] draw(GaussianStream s, int n) {
        float[] out = new float[n];
        s.fill(out, 0, n);
        return out;
    }

    @Test
    void splitMix64MatchesThePublishedReferenceOutput() {
        // Vigna's splitmix64.c with x = 0 (also SplittableRandom's algorithm).
        SplitMix64 r = new SplitMix64(0);
        assertEquals(0xE220A8397B1DCDAFL, r.nextLong());
        assertEquals(0x6E789E6AA1B965F4L, r.nextLong());
        assertEquals(0x06C45D188009454FL, r.nextLong());
    }

    @Test
    void splitMix64MatchesSplittableRandomWhichUsesTheSameAlgorithm() {
        java.util.SplittableRandom jdk = new java.util.SplittableRandom(42);
        SplitMix64 ours = new SplitMix64(42);
        for (int i = 0; i < 100; i++) {
            assertEquals(jdk.nextLong(), ours.nextLong());
        }
    }

    @Test
    void sameSeedGivesTheSameNoise() {
        float[] a = draw(NoiseSeeds.stream(1234, "decoder", 2, 1), 1000);
        float[] b = draw(NoiseSeeds.stream(1234, "decoder", 2, 1), 1000);
        assertArrayEquals(a, b);
    }

    @Test
    void everyInputChangesTheStream() {
        Set<Long> seeds = new HashSet<>();
        seeds.add(NoiseSeeds.streamSeed(1234, "decoder", 0, 1));
        seeds.add(NoiseSeeds.streamSeed(1235, "decoder", 0, 1));
        seeds.add(NoiseSeeds.streamSeed(1234, "prior", 0, 1));
        seeds.add(NoiseSeeds.streamSeed(1234, "decoder", 1, 1));
        seeds.add(NoiseSeeds.streamSeed(1234, "decoder", 0, 2));
        seeds.add(NoiseSeeds.streamSeed(0, "decoder", 0, 0));
        seeds.add(NoiseSeeds.streamSeed(0, "decoder", 1, 0));
        seeds.add(NoiseSeeds.streamSeed(0, "decoder", 0, 1));
        assertEquals(8, seeds.size());
        assertFalse(java.util.Arrays.equals(draw(NoiseSeeds.stream(7, "prior", 0, 0), 64),
                draw(NoiseSeeds.stream(7, "decoder", 0, 0), 64)));
    }

    @Test
    void seedDerivationFollowsTheDocumentedFormula() {
        long h = SplitMix64.mix64((0L ^ 99L) + 0x9E3779B97F4A7C15L);
        long fnv = 0xCBF29CE484222325L;
        for (byte b : "up".getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            fnv = (fnv ^ (b & 0xFF)) * 0x100000001B3L;
        }
        h = SplitMix64.mix64((h ^ fnv) + 0x9E3779B97F4A7C15L);
        h = SplitMix64.mix64((h ^ 3L) + 0x9E3779B97F4A7C15L);
        h = SplitMix64.mix64((h ^ 2L) + 0x9E3779B97F4A7C15L);
        assertEquals(h, NoiseSeeds.streamSeed(99, "up", 3, 2));
    }

    @Test
    void imageInABatchEqualsTheImageAlone() {
        StageNoise batch = StageNoise.forRange(77, "decoder", 1, 0, 4);
        StageNoise alone = StageNoise.forImages(77, "decoder", 1, 2);
        float[] fromBatch = new float[4 * 50];
        float[] fromAlone = new float[50];
        for (int round = 0; round < 3; round++) {
            for (int r = 0; r < 4; r++) {
                batch.fill(r, fromBatch, r * 50, 50);
            }
            alone.fill(0, fromAlone, 0, 50);
            assertArrayEquals(fromAlone, java.util.Arrays.copyOfRange(fromBatch, 100, 150));
        }
    }

    @Test
    void chunkingDoesNotChangeTheDraws() {
        GaussianStream whole = new GaussianStream(5);
        GaussianStream pieces = new GaussianStream(5);
        float[] a = draw(whole, 13);
        float[] b = new float[13];
        pieces.fill(b, 0, 5);
        pieces.fill(b, 5, 1);
        pieces.fill(b, 6, 7);
        assertArrayEquals(a, b);
    }

    @Test
    void drawsLookStandardNormal() {
        GaussianStream s = new GaussianStream(2024);
        int n = 200_000;
        double sum = 0;
        double sumSq = 0;
        int beyond2 = 0;
        for (int i = 0; i < n; i++) {
            double g = s.nextGaussian();
            sum += g;
            sumSq += g * g;
            if (Math.abs(g) > 2) {
                beyond2++;
            }
        }
        double mean = sum / n;
        assertEquals(0, mean, 0.01);
        assertEquals(1, sumSq / n - mean * mean, 0.015);
        assertEquals(0.0455, (double) beyond2 / n, 0.003); // P(|Z| > 2)
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> NoiseSeeds.streamSeed(1, "", 0, 0));
        assertThrows(IllegalArgumentException.class, () -> NoiseSeeds.streamSeed(1, "prior", -1, 0));
        assertThrows(IllegalArgumentException.class, () -> StageNoise.forImages(1, "prior", 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> StageNoise.forRange(1, "prior", 0, 0, 0));
        StageNoise two = StageNoise.forRange(1, "prior", 0, 0, 2);
        assertThrows(IllegalArgumentException.class, () -> two.fill(2, new float[4], 0, 4));
        assertTrue(two.rows() == 2);
    }
}
