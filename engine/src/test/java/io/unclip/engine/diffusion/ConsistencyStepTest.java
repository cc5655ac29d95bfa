package io.unclip.engine.diffusion;

import io.unclip.engine.seed.StageNoise;
import io.unclip.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsistencyStepTest {
    private static final GaussianDiffusion TRAILING_4 =
            GaussianDiffusion.create(BetaSchedule.COSINE, 1000, Respacing.parse("trailing4", 1000));
    private static final ModelOutputSpec EPS = new ModelOutputSpec(Prediction.EPSILON, VarianceType.LEARNED_RANGE,
            X0Clip.unit());
    private static final SampleLayout LAYOUT = SampleLayout.of(1, 3, 2, 2);

    @Test
    void aStepRenoisesTheClampedX0ToTheNextKeptTimestep() {
        ConsistencyStep step = new ConsistencyStep(TRAILING_4, EPS);
        float[] x = {0.3f, -1.2f, 2f, 0.1f, 0.5f, -0.4f, 1.5f, -2.5f, 0f, 0.7f, -0.9f, 1.1f};
        float[] out = new float[24];
        float[] noise = new float[12];
        for (int i = 0; i < 12; i++) {
            out[i] = 0.2f * i - 1f;
            noise[i] = 0.1f * (i - 6);
        }
        StepResult r = new StepResult(LAYOUT);
        int index = 2; // timestep 749, next kept 499
        step.apply(index, x, out, noise, LAYOUT, r);
        double abar = TRAILING_4.alphaCumprod(index);
        double abarPrev = TRAILING_4.alphaCumprodPrev(index);
        for (int i = 0; i < 12; i++) {
            double x0 = Math.max(-1, Math.min(1, (x[i] - Math.sqrt(1 - abar) * out[i]) / Math.sqrt(abar)));
            assertEquals(x0, r.predX0()[i], 1e-4, "x0 " + i);
            assertEquals(Math.sqrt(abarPrev) * x0 + Math.sqrt(1 - abarPrev) * noise[i], r.xPrev()[i], 1e-4, "x " + i);
        }
        assertEquals(Math.log(1 - abarPrev), r.logVariance()[0], 1e-6);
        assertTrue(step.usesNoise(index));
    }

    @Test
    void theLastStepReturnsItsX0WithoutNoise() {
        ConsistencyStep step = new ConsistencyStep(TRAILING_4, EPS);
        float[] x = new float[12];
        Arrays.fill(x, 0.25f);
        StepResult r = new StepResult(LAYOUT);
        assertFalse(step.usesNoise(0));
        step.apply(0, x, new float[24], null, LAYOUT, r);
        assertArrayEquals(r.predX0(), r.xPrev());
        assertEquals(0.25 / Math.sqrt(TRAILING_4.alphaCumprod(0)), r.xPrev()[0], 1e-5);
    }

    /** A model that always predicts the same x0 (the ideal consistency function): any step count gives it back. */
    @Test
    void withAPerfectConsistencyFunctionEveryStepCountSamplesItsX0() {
        ModelOutputSpec x0Spec = new ModelOutputSpec(Prediction.X0, VarianceType.FIXED_SMALL, X0Clip.unit());
        float[] target = {0.9f, -0.3f, 0.1f, -0.8f, 0.5f, 0.2f, -0.1f, 0.7f, -0.6f, 0.4f, 0f, -0.95f};
        for (String respacing : new String[] {"trailing1", "trailing2", "trailing4"}) {
            GaussianDiffusion d = GaussianDiffusion.create(BetaSchedule.COSINE, 1000, Respacing.parse(respacing, 1000));
            List<Long> timesteps = new ArrayList<>();
            DiffusionModel model = (x, t) -> {
                timesteps.add(t[0]);
                return Tensor.of(target.clone(), x.shape());
            };
            float[] sample = DiffusionSampler.consistency(d, x0Spec).sample(model, new long[] {1, 3, 2, 2},
                    StageNoise.forImages(7, "decoder", 1, 0), SamplingOptions.defaults()).toArray();
            assertArrayEquals(target, sample, 1e-6f, respacing);
            assertEquals(d.numSteps(), timesteps.size());
            assertEquals(999L, timesteps.get(0), "consistency sampling starts from pure noise");
        }
    }

    @Test
    void theSamplerIsNamedConsistencyAndTakesNoEta() {
        assertTrue(DiffusionSampler.named("consistency", TRAILING_4, EPS, 0).step() instanceof ConsistencyStep);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DiffusionSampler.named("consistency", TRAILING_4, EPS, 0.5));
        assertTrue(e.getMessage().contains("eta applies to ddim only"), e.getMessage());
    }

    @Test
    void classifierGuidanceMovesX0AlongTheGradient() {
        ModelOutputSpec noClip = new ModelOutputSpec(Prediction.EPSILON, VarianceType.LEARNED_RANGE, X0Clip.off());
        ConsistencyStep step = new ConsistencyStep(TRAILING_4, noClip);
        float[] x = new float[12];
        float[] gradient = new float[12];
        Arrays.fill(gradient, 1f);
        StepResult plain = new StepResult(LAYOUT);
        StepResult guided = new StepResult(LAYOUT);
        step.apply(1, x, new float[24], null, new float[12], LAYOUT, plain);
        step.apply(1, x, new float[24], gradient, new float[12], LAYOUT, guided);
        double abar = TRAILING_4.alphaCumprod(1);
        // eps' = eps - sqrt(1 - abar) g, so x0' = x0 + (1 - abar) / sqrt(abar) g
        assertEquals(plain.predX0()[0] + (1 - abar) / Math.sqrt(abar), guided.predX0()[0], 1e-4);
    }
}
