package io.unclip.engine.diffusion;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BetaScheduleTest {
    @Test
    void linearThousandStepsSpansHoEtAlRange() {
        double[] b = BetaSchedule.LINEAR.betas(1000);
        assertEquals(1000, b.length);
        assertEquals(1e-4, b[0], 1e-18);
        assertEquals(0.02, b[999], 0.0);
        assertEquals((0.02 - 1e-4) / 999, b[1] - b[0], 1e-15);
    }

    @Test
    void linearScalesByThousandOverT() {
        double[] b = BetaSchedule.LINEAR.betas(250);
        assertEquals(4e-4, b[0], 1e-18);
        assertEquals(0.08, b[249], 1e-15);
        for (int i = 1; i < b.length; i++) {
            assertTrue(b[i] > b[i - 1]);
        }
    }

    @Test
    void cosineAlphasCumprodIsMonotoneAndBetasAreCapped() {
        double[] b = BetaSchedule.COSINE.betas(1000);
        double prod = 1;
        double prev = 1;
        for (double beta : b) {
            assertTrue(beta > 0 && beta <= BetaSchedule.MAX_BETA, "beta " + beta);
            prod *= 1 - beta;
            assertTrue(prod < prev);
            prev = prod;
        }
        assertEquals(BetaSchedule.MAX_BETA, b[999], 0.0); // alpha_bar(1) = cos^2(pi/2) ~ 0 hits the cap
    }

    @Test
    void cosineAlphasCumprodTelescopesToTheClosedForm() {
        // Uncapped, prod_{i<k} (1 - beta_i) = alpha_bar(k/T) / alpha_bar(0) (Nichol and Dhariwal eq. 17).
        int t = 1000;
        double[] b = BetaSchedule.COSINE.betas(t);
        double prod = 1;
        for (int k = 0; k < 500; k++) {
            prod *= 1 - b[k];
        }
        double f0 = Math.pow(Math.cos(0.008 / 1.008 * Math.PI / 2), 2);
        double fk = Math.pow(Math.cos((0.5 + 0.008) / 1.008 * Math.PI / 2), 2);
        assertEquals(fk / f0, prod, 1e-12);
    }

    @Test
    void squaredcosCapV2IsTheCosineSchedule() {
        assertSame(BetaSchedule.COSINE, BetaSchedule.fromName("squaredcos_cap_v2"));
        assertSame(BetaSchedule.COSINE, BetaSchedule.fromName("Cosine"));
        assertSame(BetaSchedule.LINEAR, BetaSchedule.fromName("linear"));
        assertArrayEquals(BetaSchedule.COSINE.betas(64), BetaSchedule.fromName("squaredcos_cap_v2").betas(64));
    }

    @Test
    void anyTWorks() {
        assertEquals(1, BetaSchedule.LINEAR.betas(1).length);
        assertEquals(1, BetaSchedule.COSINE.betas(1).length);
        assertEquals(4000, BetaSchedule.COSINE.betas(4000).length);
    }

    @Test
    void badParametersAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BetaSchedule.fromName("quadratic"));
        assertTrue(e.getMessage().contains("quadratic"));
        assertThrows(IllegalArgumentException.class, () -> BetaSchedule.fromName(null));
        assertThrows(IllegalArgumentException.class, () -> BetaSchedule.LINEAR.betas(0));
        assertThrows(IllegalArgumentException.class, () -> BetaSchedule.COSINE.betas(-5));
    }
}
