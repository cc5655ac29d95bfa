package io.unclip.engine.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * ADM classifier guidance in each sampler, against guided-diffusion's formulas written out here in
 * double precision: DDPM {@code condition_mean} (mean + Sigma * s grad) and DDIM
 * {@code condition_score} (eps - sqrt(1 - abar) s grad, x0 from the new eps).
 */
class ClassifierGuidanceTest {
    private static final GaussianDiffusion COSINE_10 =
            GaussianDiffusion.create(BetaSchedule.COSINE, 1000, Respacing.parse("10", 1000));
    private static final SampleLayout LAYOUT = SampleLayout.of(2, 3, 2, 2);

    private static float[] random(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    @Test
    void ddpmShiftsTheMeanBySigmaTimesTheGradient() {
        Random r = new Random(1);
        ModelOutputSpec spec = new ModelOutputSpec(Prediction.EPSILON, VarianceType.LEARNED_RANGE, X0Clip.unit());
        DdpmStep step = new DdpmStep(COSINE_10, spec);
        float[] x = random(r, LAYOUT.size(), 1);
        float[] out = random(r, 2 * LAYOUT.size(), 0.5);
        float[] grad = random(r, LAYOUT.size(), 2);
        float[] z = random(r, LAYOUT.size(), 1);
        for (int index : new int[] {9, 4, 1}) {
            StepResult plain = new StepResult(LAYOUT);
            StepResult guided = new StepResult(LAYOUT);
            step.apply(index, x, out, z, LAYOUT, plain);
            step.apply(index, x, out, grad, z, LAYOUT, guided);
            for (int i = 0; i < x.length; i++) {
                double variance = Math.exp(plain.logVariance()[i]);
                assertEquals(plain.mean()[i] + variance * grad[i], guided.mean()[i], 1e-5, "mean at " + i);
                assertEquals(guided.mean()[i] + Math.exp(0.5 * guided.logVariance()[i]) * z[i], guided.xPrev()[i],
                        1e-5, "x_{t-1} at " + i);
            }
            assertArrayEquals(plain.predX0(), guided.predX0(), "DDPM guidance leaves x0 alone");
        }
    }

    @Test
    void ddimMovesEpsilonAgainstTheScore() {
        Random r = new Random(2);
        ModelOutputSpec spec = new ModelOutputSpec(Prediction.EPSILON, VarianceType.FIXED_SMALL, X0Clip.off());
        DdimStep step = new DdimStep(COSINE_10, spec, 0.0);
        float[] x = random(r, LAYOUT.size(), 1);
        float[] eps = random(r, LAYOUT.size(), 1);
        float[] grad = random(r, LAYOUT.size(), 2);
        for (int index : new int[] {9, 5, 0}) {
            StepResult guided = new StepResult(LAYOUT);
            step.apply(index, x, eps, grad, null, LAYOUT, guided);
            double abar = COSINE_10.alphaCumprod(index);
            double abarPrev = COSINE_10.alphaCumprodPrev(index);
            for (int i = 0; i < x.length; i++) {
                double e = eps[i] - Math.sqrt(1 - abar) * grad[i];
                double x0 = (x[i] - Math.sqrt(1 - abar) * e) / Math.sqrt(abar);
                double prev = x0 * Math.sqrt(abarPrev) + Math.sqrt(1 - abarPrev) * e;
                assertEquals(x0, guided.predX0()[i], 1e-4 * Math.max(1, Math.abs(x0)), "x0 at " + i);
                assertEquals(prev, guided.xPrev()[i], 1e-4 * Math.max(1, Math.abs(prev)), "x_{t-1} at " + i);
            }
        }
    }

    @Test
    void aZeroGradientChangesNothing() {
        Random r = new Random(3);
        ModelOutputSpec spec = new ModelOutputSpec(Prediction.EPSILON, VarianceType.LEARNED_RANGE, X0Clip.unit());
        float[] x = random(r, LAYOUT.size(), 1);
        float[] out = random(r, 2 * LAYOUT.size(), 0.5);
        float[] z = random(r, LAYOUT.size(), 1);
        for (DenoisingStep step : new DenoisingStep[] {new DdpmStep(COSINE_10, spec), new DdimStep(COSINE_10, spec, 0.5)}) {
            StepResult plain = new StepResult(LAYOUT);
            StepResult zero = new StepResult(LAYOUT);
            step.apply(6, x, out, z, LAYOUT, plain);
            step.apply(6, x, out, new float[x.length], z, LAYOUT, zero);
            assertArrayEquals(plain.xPrev(), zero.xPrev(), 1e-6f, step.getClass().getSimpleName());
        }
    }

    @Test
    void samplingStateRunsTheClassifierOnItsOwnXtAtTheModelTimestep() {
        ModelOutputSpec spec = new ModelOutputSpec(Prediction.EPSILON, VarianceType.FIXED_SMALL, X0Clip.unit());
        DdpmStep step = new DdpmStep(COSINE_10, spec);
        long[] seen = new long[COSINE_10.numSteps()];
        int[] calls = {0};
        // a "classifier" that pulls every pixel towards +1: guided samples end up brighter
        ClassifierGuidance towardsOne = new ClassifierGuidance(3.0, (x, layout, t, g) -> {
            seen[calls[0]++] = t;
            for (int i = 0; i < g.length; i++) {
                g[i] = 1f - x[i];
            }
        });
        NoiseSource noise = (row, dst, offset, length) -> {
            Random r = new Random(row * 7919L + calls[0]);
            for (int i = 0; i < length; i++) {
                dst[offset + i] = (float) r.nextGaussian();
            }
        };
        float[] guided = run(step, towardsOne, noise);
        assertEquals(COSINE_10.numSteps(), calls[0]);
        for (int k = 0; k < seen.length; k++) {
            assertEquals(COSINE_10.modelTimestep(seen.length - 1 - k), seen[k], "timestep of step " + k);
        }
        calls[0] = 0;
        float[] plain = run(step, null, noise);
        assertTrue(mean(guided) > mean(plain) + 0.1, "guided " + mean(guided) + " vs plain " + mean(plain));
    }

    private static float[] run(DenoisingStep step, ClassifierGuidance classifier, NoiseSource noise) {
        SamplingState s = SamplingState.fromNoise(step, new long[] {2, 3, 2, 2}, noise, null, classifier, null, null);
        while (!s.finished()) {
            var in = s.beginStep();
            float[] eps = new float[in.buffer().capacity()]; // a model that predicts zero noise
            s.endStep(java.nio.FloatBuffer.wrap(eps), 0);
        }
        return s.sample().toArray();
    }

    private static double mean(float[] v) {
        double m = 0;
        for (float f : v) {
            m += f;
        }
        return m / v.length;
    }

    private static void assertTrue(boolean ok, String message) {
        org.junit.jupiter.api.Assertions.assertTrue(ok, message);
    }

    @Test
    void scaleMustBePositiveAndFinite() {
        ClassifierGuidance.Gradient g = (x, l, t, out) -> { };
        assertThrows(IllegalArgumentException.class, () -> new ClassifierGuidance(0, g));
        assertThrows(IllegalArgumentException.class, () -> new ClassifierGuidance(Double.NaN, g));
        assertThrows(IllegalArgumentException.class, () -> new ClassifierGuidance(1, null));
    }

    @Test
    void aGradientOfTheWrongSizeIsRefused() {
        ModelOutputSpec spec = new ModelOutputSpec(Prediction.EPSILON, VarianceType.FIXED_SMALL, X0Clip.unit());
        DdpmStep step = new DdpmStep(COSINE_10, spec);
        float[] x = new float[LAYOUT.size()];
        assertThrows(IllegalArgumentException.class, () -> step.apply(3, x, new float[x.length], new float[5],
                new float[x.length], LAYOUT, new StepResult(LAYOUT)));
    }
}
