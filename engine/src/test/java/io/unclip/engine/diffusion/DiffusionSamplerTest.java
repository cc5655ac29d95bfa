package io.unclip.engine.diffusion;

import io.unclip.engine.seed.StageNoise;
import io.unclip.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiffusionSamplerTest {
    private static final long SEED = 31337;
    private static final GaussianDiffusion COSINE_10 =
            GaussianDiffusion.create(BetaSchedule.COSINE, 1000, Respacing.parse("10", 1000));
    private static final ModelOutputSpec EPS_LEARNED =
            new ModelOutputSpec(Prediction.EPSILON, VarianceType.LEARNED_RANGE, X0Clip.unit());

    /**
     * A deterministic stand-in network. Row r gets conditioning value cond[r]; the first C
     * channels are 0.1 x + cond + 1e-4 t, learned variance channels are tanh(x).
     */
    private static final class ToyModel implements DiffusionModel {
        final float[] conditioning;
        final boolean learnedVariance;
        final List<long[]> timestepsSeen = new ArrayList<>();
        final List<float[]> inputsSeen = new ArrayList<>();

        ToyModel(boolean learnedVariance, float... conditioning) {
            this.conditioning = conditioning;
            this.learnedVariance = learnedVariance;
        }

        @Override
        public Tensor predict(Tensor x, long[] timesteps) {
            timestepsSeen.add(timesteps.clone());
            inputsSeen.add(x.toArray());
            int rows = (int) x.dim(0);
            assertEquals(conditioning.length, rows, "rows the model was built for");
            long[] shape = x.shape();
            SampleLayout in = SampleLayout.of(shape);
            int outC = learnedVariance ? 2 * in.channels() : in.channels();
            shape[1] = outC;
            Tensor out = Tensor.zeros(shape);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < in.channels(); c++) {
                    for (int s = 0; s < in.spatial(); s++) {
                        float v = x.get((r * in.channels() + c) * in.spatial() + s);
                        out.set((r * outC + c) * in.spatial() + s, 0.1f * v + conditioning[r] + 1e-4f * timesteps[r]);
                        if (learnedVariance) {
                            out.set((r * outC + in.channels() + c) * in.spatial() + s, (float) Math.tanh(v));
                        }
                    }
                }
            }
            return out;
        }
    }

    private static float imageConditioning(int image) {
        return 0.05f * (image + 1);
    }

    /** [cond of images...; uncond zeros] when guided, else [cond of images...]. */
    private static ToyModel modelFor(boolean learned, boolean guided, int... images) {
        float[] cond = new float[guided ? 2 * images.length : images.length];
        for (int i = 0; i < images.length; i++) {
            cond[i] = imageConditioning(images[i]);
        }
        return new ToyModel(learned, cond);
    }

    @Test
    void batchOfNEqualsNSinglesForGuidedDdpm() {
        assertBatchEqualsSingles(DiffusionSampler.ddpm(COSINE_10, EPS_LEARNED), true, true, 3, 4, 4);
    }

    @Test
    void batchOfNEqualsNSinglesForDdimWithEta() {
        ModelOutputSpec spec = new ModelOutputSpec(Prediction.EPSILON, VarianceType.FIXED_SMALL, X0Clip.unit());
        assertBatchEqualsSingles(DiffusionSampler.ddim(COSINE_10, spec, 0.5), false, false, 3, 4, 4);
    }

    @Test
    void batchOfNEqualsNSinglesForVectors() {
        ModelOutputSpec prior = new ModelOutputSpec(Prediction.X0, VarianceType.FIXED_SMALL, X0Clip.to(5.0));
        assertBatchEqualsSingles(DiffusionSampler.ddpm(COSINE_10, prior), false, true, 16);
    }

    private static void assertBatchEqualsSingles(DiffusionSampler sampler, boolean learned, boolean guided, long... itemShape) {
        int n = 3;
        long[] shape = new long[itemShape.length + 1];
        shape[0] = n;
        System.arraycopy(itemShape, 0, shape, 1, itemShape.length);
        SamplingOptions options = guided ? SamplingOptions.defaults().withGuidanceScale(3.0) : SamplingOptions.defaults();
        float[] batch = sampler.sample(modelFor(learned, guided, 0, 1, 2), shape,
                StageNoise.forRange(SEED, "decoder", 1, 0, n), options).toArray();
        long[] single = shape.clone();
        single[0] = 1;
        int item = batch.length / n;
        for (int i = 0; i < n; i++) {
            float[] alone = sampler.sample(modelFor(learned, guided, i), single,
                    StageNoise.forImages(SEED, "decoder", 1, i), options).toArray();
            assertArrayEquals(alone, Arrays.copyOfRange(batch, i * item, (i + 1) * item), "image " + i);
        }
        assertFalse(Arrays.equals(Arrays.copyOfRange(batch, 0, item), Arrays.copyOfRange(batch, item, 2 * item)));
    }

    @Test
    void cancellationStopsWithinOneStep() {
        AtomicBoolean cancel = new AtomicBoolean();
        ToyModel model = modelFor(true, false, 0);
        SamplingOptions options = SamplingOptions.defaults()
                .withListener((step, total, preview) -> cancel.set(step == 2))
                .withCancellation(cancel::get);
        SamplingCancelledException e = assertThrows(SamplingCancelledException.class,
                () -> DiffusionSampler.ddpm(COSINE_10, EPS_LEARNED).sample(model, new long[] {1, 3, 2, 2},
                        StageNoise.forImages(SEED, "decoder", 1, 0), options));
        assertEquals(3, e.completedSteps());
        assertEquals(10, e.totalSteps());
        assertEquals(3, model.timestepsSeen.size());
    }

    @Test
    void cancellationBeforeTheFirstStepNeverCallsTheModel() {
        ToyModel model = modelFor(true, false, 0);
        SamplingCancelledException e = assertThrows(SamplingCancelledException.class,
                () -> DiffusionSampler.ddpm(COSINE_10, EPS_LEARNED).sample(model, new long[] {1, 3, 2, 2},
                        StageNoise.forImages(SEED, "decoder", 1, 0), SamplingOptions.defaults().withCancellation(() -> true)));
        assertEquals(0, e.completedSteps());
        assertTrue(model.timestepsSeen.isEmpty());
    }

    @Test
    void listenerGetsEveryStepWithAPreviewOfTheSampleShape() {
        List<Integer> steps = new ArrayList<>();
        AtomicInteger totals = new AtomicInteger();
        long[] shape = {2, 3, 4, 4};
        DiffusionSampler.ddim(COSINE_10, EPS_LEARNED, 0.0).sample(modelFor(true, true, 0, 1), shape,
                StageNoise.forRange(SEED, "decoder", 1, 0, 2),
                SamplingOptions.defaults().withGuidanceScale(2.0).withListener((step, total, preview) -> {
                    steps.add(step);
                    totals.set(total);
                    assertArrayEquals(shape, preview.shape());
                    for (float v : preview.toArray()) {
                        assertTrue(Math.abs(v) <= 1f, "clipped preview");
                    }
                }));
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), steps);
        assertEquals(10, totals.get());
    }

    @Test
    void modelSeesOriginalTimestepsAndOneBatchOfCondAndUncondRows() {
        ToyModel model = modelFor(true, true, 0, 1);
        DiffusionSampler.ddpm(COSINE_10, EPS_LEARNED).sample(model, new long[] {2, 3, 2, 2},
                StageNoise.forRange(SEED, "decoder", 1, 0, 2), SamplingOptions.defaults().withGuidanceScale(4.0));
        long[] expected = COSINE_10.timestepsInSamplingOrder();
        assertEquals(expected.length, model.timestepsSeen.size());
        for (int k = 0; k < expected.length; k++) {
            long[] ts = model.timestepsSeen.get(k);
            assertEquals(4, ts.length);
            for (long t : ts) {
                assertEquals(expected[k], t);
            }
            float[] x = model.inputsSeen.get(k);
            assertArrayEquals(Arrays.copyOfRange(x, 0, x.length / 2), Arrays.copyOfRange(x, x.length / 2, x.length));
        }
    }

    @Test
    void samplerEqualsAHandWrittenLoopOverTheStepAndGuidance() {
        long[] shape = {2, 3, 2, 2};
        SampleLayout layout = SampleLayout.of(shape);
        DdpmStep step = new DdpmStep(COSINE_10, EPS_LEARNED);
        ClassifierFreeGuidance guidance = new ClassifierFreeGuidance(3.0);
        float[] viaSampler = new DiffusionSampler(step).sample(modelFor(true, true, 0, 1), shape,
                StageNoise.forRange(SEED, "decoder", 1, 0, 2), SamplingOptions.defaults().withGuidanceScale(3.0)).toArray();

        StageNoise noise = StageNoise.forRange(SEED, "decoder", 1, 0, 2);
        ToyModel model = modelFor(true, true, 0, 1);
        int item = layout.itemSize();
        float[] x = new float[layout.size()];
        noise.fill(0, x, 0, item);
        noise.fill(1, x, item, item);
        StepResult result = new StepResult(layout);
        for (int index = COSINE_10.numSteps() - 1; index >= 0; index--) {
            float[] doubled = new float[2 * x.length];
            System.arraycopy(x, 0, doubled, 0, x.length);
            System.arraycopy(x, 0, doubled, x.length, x.length);
            long t = COSINE_10.modelTimestep(index);
            float[] raw = model.predict(Tensor.of(doubled, 4, 3, 2, 2), new long[] {t, t, t, t}).toArray();
            float[] guided = new float[raw.length / 2];
            guidance.combine(raw, 2, 3, 6, 4, guided);
            float[] z = new float[x.length];
            if (index > 0) {
                noise.fill(0, z, 0, item);
                noise.fill(1, z, item, item);
            }
            step.apply(index, x, guided, z, layout, result);
            x = result.xPrev().clone();
        }
        assertArrayEquals(x, viaSampler);
    }

    @Test
    void givenInitialNoiseIsNotModified() {
        Tensor xT = Tensor.of(new float[] {0.5f, -0.25f, 1.5f, 0f}, 1, 4);
        float[] before = xT.toArray();
        ModelOutputSpec spec = new ModelOutputSpec(Prediction.EPSILON, VarianceType.FIXED_LARGE, X0Clip.off());
        Tensor out = DiffusionSampler.ddim(COSINE_10, spec, 0.0).sample(modelFor(false, false, 0), xT,
                (row, dst, off, len) -> { throw new AssertionError("eta 0 draws no noise"); }, SamplingOptions.defaults());
        assertArrayEquals(before, xT.toArray());
        assertArrayEquals(new long[] {1, 4}, out.shape());
    }

    @Test
    void wrongModelOutputShapeIsReported() {
        DiffusionModel wrong = (x, t) -> Tensor.zeros(x.shape()); // C channels, but learned_range needs 2C
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> DiffusionSampler.ddpm(COSINE_10, EPS_LEARNED).sample(wrong, new long[] {1, 3, 2, 2},
                        StageNoise.forImages(SEED, "decoder", 1, 0), SamplingOptions.defaults()));
        assertTrue(e.getMessage().contains("[1, 6, 2, 2]"), e.getMessage());
    }

    @Test
    void badStepArgumentsAreRejected() {
        SampleLayout layout = SampleLayout.of(1, 3, 2, 2);
        DdpmStep step = new DdpmStep(COSINE_10, EPS_LEARNED);
        StepResult result = new StepResult(layout);
        float[] x = new float[12];
        assertThrows(IllegalArgumentException.class, () -> step.apply(10, x, new float[24], new float[12], layout, result));
        assertThrows(IllegalArgumentException.class, () -> step.apply(3, x, new float[12], new float[12], layout, result));
        assertThrows(IllegalArgumentException.class, () -> step.apply(3, x, new float[24], null, layout, result));
        assertThrows(IllegalArgumentException.class, () -> new DdimStep(COSINE_10, EPS_LEARNED, -0.1));
        assertThrows(IllegalArgumentException.class, () -> SampleLayout.of(4));
        assertThrows(IllegalArgumentException.class, () -> X0Clip.to(0));
        assertThrows(IllegalArgumentException.class, () -> Prediction.fromName("v"));
        assertThrows(IllegalArgumentException.class, () -> VarianceType.fromName("learned"));
        assertThrows(IllegalArgumentException.class, () -> DiffusionSampler.named("plms", COSINE_10, EPS_LEARNED, 0));
        assertThrows(IllegalArgumentException.class, () -> DiffusionSampler.named("ddpm", COSINE_10, EPS_LEARNED, 1));
        assertTrue(DiffusionSampler.named("DDIM", COSINE_10, EPS_LEARNED, 0.5).step() instanceof DdimStep);
        step.apply(0, x, new float[24], null, layout, result); // index 0 needs no noise
    }
}
