package io.unclip.engine.diffusion;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RespacingTest {
    @Test
    void singleSectionWithIntegralStride() {
        // (100 - 1) / (10 - 1) = 11 exactly
        assertArrayEquals(IntStream.range(0, 10).map(i -> 11 * i).toArray(), Respacing.parse("10", 100).keptTimesteps());
    }

    @Test
    void fractionalStrideRoundsHalfToEven() {
        // stride 2.5: positions 0, 2.5, 5.0 -> 0, 2 (half to even), 5
        assertArrayEquals(new int[] {0, 2, 5}, Respacing.parse("3", 6).keptTimesteps());
        // stride 1.5: 0, 1.5, 3.0 -> 0, 2, 3
        assertArrayEquals(new int[] {0, 2, 3}, Respacing.parse("3", 4).keptTimesteps());
    }

    @Test
    void fullCountKeepsEverything() {
        assertArrayEquals(IntStream.range(0, 1000).toArray(), Respacing.parse("1000", 1000).keptTimesteps());
        assertArrayEquals(IntStream.range(0, 7).toArray(), Respacing.none(7).keptTimesteps());
    }

    @Test
    void sectionsCoverEqualThirds() {
        int[] kept = Respacing.parse("10,15,20", 300).keptTimesteps();
        assertEquals(45, kept.length);
        assertArrayEquals(IntStream.range(0, 10).map(i -> 11 * i).toArray(), java.util.Arrays.copyOf(kept, 10));
        assertEquals(100, kept[10]);
        assertEquals(199, kept[24]);
        assertEquals(200, kept[25]);
        assertEquals(299, kept[44]);
    }

    @Test
    void unevenSectionsGiveTheExtraStepToEarlierSections() {
        // 10 = 4 + 3 + 3: sections [0..3], [4..6], [7..9], one step each at the start
        assertArrayEquals(new int[] {0, 4, 7}, Respacing.parse("1,1,1", 10).keptTimesteps());
    }

    @Test
    void ddimUsesTheSmallestIntegerStrideGivingTheCount() {
        assertArrayEquals(IntStream.range(0, 25).map(i -> 40 * i).toArray(), Respacing.parse("ddim25", 1000).keptTimesteps());
        assertArrayEquals(IntStream.range(0, 50).map(i -> 20 * i).toArray(), Respacing.parse("ddim50", 1000).keptTimesteps());
        assertArrayEquals(IntStream.range(0, 4).map(i -> 3 * i).toArray(), Respacing.parse("ddim4", 10).keptTimesteps());
    }

    @Test
    void impossibleDdimCountsFailClearly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Respacing.parse("ddim6", 10));
        assertTrue(e.getMessage().contains("cannot create exactly 6 steps"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Respacing.parse("ddim2000", 1000));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "abc", "0", "-3", "10,,5", "2000", "ddim", "ddimX", "ddim0", "10;20", "1.5",
        "trailing", "leading0", "linspace2000", "trailing-5", "leading 5x"})
    void malformedOrImpossibleStringsAreRejected(String spec) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Respacing.parse(spec, 1000));
        assertTrue(e.getMessage().contains("respacing") || e.getMessage().contains("ddim"), e.getMessage());
    }

    @Test
    void sectionLargerThanItsShareIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Respacing.parse("5,60", 100));
        assertTrue(e.getMessage().contains("cannot divide section 1 of 50 steps into 60"), e.getMessage());
    }

    @Test
    void diffusersLeadingSpacing() {
        assertArrayEquals(IntStream.range(0, 10).map(i -> 100 * i).toArray(),
                Respacing.evenly(1000, 10, TimestepSpacing.LEADING).keptTimesteps());
        assertArrayEquals(IntStream.range(0, 10).map(i -> 100 * i + 1).toArray(),
                Respacing.evenly(1000, 10, TimestepSpacing.LEADING, 1).keptTimesteps());
    }

    @Test
    void diffusersTrailingSpacing() {
        assertArrayEquals(IntStream.range(0, 10).map(i -> 100 * i + 99).toArray(),
                Respacing.evenly(1000, 10, TimestepSpacing.TRAILING).keptTimesteps());
        // T/n = 333.33..: 1000, 666.67, 333.33 -> 999, 666, 332
        assertArrayEquals(new int[] {332, 666, 999}, Respacing.evenly(1000, 3, TimestepSpacing.TRAILING).keptTimesteps());
        // numpy's arange would yield 62 values here; we keep exactly the requested count
        assertEquals(61, Respacing.evenly(1000, 61, TimestepSpacing.TRAILING).numSteps());
    }

    /** The diffusers spacings in the one respacing grammar: "leading10", "trailing3", "linspace10". */
    @Test
    void diffusersSpacingsParseAsRespacingStrings() {
        for (TimestepSpacing s : TimestepSpacing.values()) {
            for (int n : new int[] {1, 3, 10, 61}) {
                String spec = s.name().toLowerCase(java.util.Locale.ROOT) + n;
                assertArrayEquals(Respacing.evenly(1000, n, s).keptTimesteps(), Respacing.parse(spec, 1000).keptTimesteps(),
                        spec);
            }
        }
    }

    @Test
    void diffusersLinspaceSpacing() {
        assertArrayEquals(IntStream.range(0, 10).map(i -> 111 * i).toArray(),
                Respacing.evenly(1000, 10, TimestepSpacing.LINSPACE).keptTimesteps());
        assertArrayEquals(new int[] {0}, Respacing.evenly(1000, 1, TimestepSpacing.LINSPACE).keptTimesteps());
    }

    @Test
    void everySpacingKeepsDistinctInRangeSteps() {
        for (TimestepSpacing spacing : TimestepSpacing.values()) {
            for (int n = 1; n <= 1000; n += 37) {
                int[] kept = Respacing.evenly(1000, n, spacing).keptTimesteps();
                assertEquals(n, kept.length, spacing + " " + n);
                assertTrue(kept[0] >= 0 && kept[n - 1] < 1000, spacing + " " + n);
            }
        }
        assertEquals(TimestepSpacing.TRAILING, TimestepSpacing.fromName("trailing"));
    }

    @Test
    void badEvenSpacingParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Respacing.evenly(1000, 0, TimestepSpacing.LEADING));
        assertThrows(IllegalArgumentException.class, () -> Respacing.evenly(1000, 1001, TimestepSpacing.LINSPACE));
        assertThrows(IllegalArgumentException.class, () -> Respacing.evenly(1000, 10, TimestepSpacing.TRAILING, 1));
        assertThrows(IllegalArgumentException.class, () -> Respacing.evenly(1000, 10, TimestepSpacing.LEADING, 100));
        assertThrows(IllegalArgumentException.class, () -> TimestepSpacing.fromName("uniform"));
        assertThrows(IllegalArgumentException.class, () -> Respacing.of(10, 3, 3));
        assertThrows(IllegalArgumentException.class, () -> Respacing.of(10, 10));
    }

    @Test
    void respacedChainKeepsTheOriginalAlphasCumprod() {
        double[] base = BetaSchedule.COSINE.betas(1000);
        double[] baseCumprod = new double[1000];
        double p = 1;
        for (int t = 0; t < 1000; t++) {
            p *= 1 - base[t];
            baseCumprod[t] = p;
        }
        GaussianDiffusion d = GaussianDiffusion.create(BetaSchedule.COSINE, 1000, Respacing.parse("27", 1000));
        int[] kept = Respacing.parse("27", 1000).keptTimesteps();
        for (int i = 0; i < d.numSteps(); i++) {
            assertEquals(kept[i], d.modelTimestep(i));
            assertEquals(baseCumprod[kept[i]], d.alphaCumprod(i), 1e-12);
        }
        assertEquals(999L, d.timestepsInSamplingOrder()[0]);
        assertEquals(0L, d.timestepsInSamplingOrder()[26]);
    }

    @Test
    void unrespacedChainHasTheBaseBetasAndPosterior() {
        double[] base = BetaSchedule.LINEAR.betas(1000);
        GaussianDiffusion d = GaussianDiffusion.create(BetaSchedule.LINEAR, 1000, Respacing.none(1000));
        for (int i = 0; i < 1000; i++) {
            assertEquals(base[i], d.beta(i), 1e-15);
        }
        assertEquals(0.0, d.posteriorVariance(0), 0.0);
        assertEquals(Math.log(d.posteriorVariance(1)), d.posteriorLogVarianceClipped(0), 0.0);
        assertEquals(d.posteriorVariance(1), d.fixedLargeVariance(0), 0.0);
        assertEquals(d.beta(5), d.fixedLargeVariance(5), 0.0);
        // Noise-free consistency: at x_t = sqrt(abar_t) x0 the posterior mean is sqrt(abar_{t-1}) x0.
        for (int i = 1; i < 1000; i += 111) {
            double mu = d.posteriorMeanCoef1(i) + d.posteriorMeanCoef2(i) * Math.sqrt(d.alphaCumprod(i));
            assertEquals(Math.sqrt(d.alphaCumprodPrev(i)), mu, 1e-9);
        }
    }
}
