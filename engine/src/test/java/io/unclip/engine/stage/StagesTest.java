package io.unclip.engine.stage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.diffusion.DiffusionModel;
import io.unclip.engine.diffusion.DiffusionSampler;
import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.diffusion.SamplingOptions;
import io.unclip.engine.model.ModelBundle;
import io.unclip.engine.model.ModelRepository;
import io.unclip.engine.onnx.Fixtures;
import io.unclip.engine.onnx.OrtRuntime;
import io.unclip.engine.seed.StageNoise;
import io.unclip.engine.schedule.SchedulerConfig;
import io.unclip.engine.schedule.SchedulerObserver;
import io.unclip.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each stage class alone, against the tiny bundle (random weights, real tensor contracts). */
class StagesTest {
    private static final long SEED = 1234;
    private static OrtRuntime runtime;
    private static ModelBundle bundle;
    private static TextEncoderStage text;
    private static PriorStage prior;
    private static DecoderStage decoder;
    private static UpsamplerStage up32;
    private static UpsamplerStage up128;
    private static CaptionerStage captioner;
    private static ImageEncoderStage imageEncoder;

    @BeforeAll
    static void load() {
        runtime = new OrtRuntime(Fixtures.lightCpu());
        bundle = new ModelRepository(runtime).load(Fixtures.tinyBundle());
        text = new TextEncoderStage(bundle.stage("text_encoder"));
        prior = new PriorStage(bundle.stage("prior"));
        decoder = new DecoderStage(bundle.stage("decoder"));
        up32 = new UpsamplerStage(bundle.stage("upsampler_32"), 0);
        up128 = new UpsamplerStage(bundle.stage("upsampler_128"), 1);
        captioner = new CaptionerStage(bundle.stage("captioner"));
        imageEncoder = new ImageEncoderStage(bundle.stage("image_encoder"));
    }

    @AfterAll
    static void close() {
        bundle.close();
        runtime.close();
    }

    // ---- text encoder ----

    @Test
    void textEncoderShapesAndEmptyPrompt() {
        TextConditioning t = text.encode(List.of("a red circle", "a small blue square at the top left"),
                RunContext.quiet());
        assertEquals(2, t.rows());
        assertArrayEquals(new long[] {2, 16}, t.textEmbeds().shape());
        assertArrayEquals(new long[] {2, 24, 16}, t.hiddenStates().shape());
        assertEquals(5, sum(t.mask(), 0, 24)); // BOS a red circle EOS
        TextConditioning empty = text.emptyPrompt();
        assertEquals(1, empty.rows());
        assertEquals(2, sum(empty.mask(), 0, 24)); // BOS EOS only
        assertEquals(2, empty.ids()[0]);
        assertEquals(3, empty.ids()[1]);
        assertTrue(empty == text.emptyPrompt(), "cached");
    }

    @Test
    void unknownWordsAreNamed() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> text.checkPrompt("prompt", "a red dog and a blue cat"));
        assertEquals("prompt: uses words outside the model's vocabulary: 'dog', 'cat'", e.getMessage());
        assertEquals("prompt", e.field());
        text.checkPrompt("prompt", "A Red Circle");
    }

    // ---- prior ----

    @Test
    void priorKeepsTheCandidateMostSimilarToTheText() {
        TextConditioning t = text.encode(List.of("a red circle", "a blue square"), RunContext.quiet());
        PriorResult r = prior.sample(t, text.emptyPrompt(), DiffusionRequest.of(SEED, 2)
                .withOverrides(SamplerOverrides.none().withSteps(5)), RunContext.quiet()); // the manifest's 2
        assertArrayEquals(new long[] {2, 16}, r.imageEmbeds().shape());
        assertArrayEquals(new long[] {4, 16}, r.candidates().shape());
        for (int n = 0; n < 2; n++) {
            float[] te = t.embedding(n);
            double[] recomputed = new double[2];
            for (int c = 0; c < 2; c++) {
                float[] cand = rowOf(r.candidates(), n * 2 + c);
                // the dot product of the L2-normalised vectors, recomputed from scratch
                double na = 0;
                double nb = 0;
                double dot = 0;
                for (int i = 0; i < 16; i++) {
                    na += (double) cand[i] * cand[i];
                    nb += (double) te[i] * te[i];
                    dot += (double) cand[i] * te[i];
                }
                recomputed[c] = dot / Math.sqrt(na) / Math.sqrt(nb);
                assertEquals(recomputed[c], r.scores()[n * 2 + c], 1e-9);
            }
            assertTrue(recomputed[0] != recomputed[1], "candidates differ");
            int best = recomputed[1] > recomputed[0] ? 1 : 0;
            assertEquals(best, r.chosen()[n]);
            assertArrayEquals(rowOf(r.candidates(), n * 2 + best), rowOf(r.imageEmbeds(), n));
        }
    }

    @Test
    void priorCandidatesAreDenormalisedWithTheManifestStatistics() {
        TextConditioning t = text.encode(List.of("a red circle"), RunContext.quiet());
        PriorResult r = prior.sample(t, text.emptyPrompt(), DiffusionRequest.of(SEED, 1)
                .withOverrides(SamplerOverrides.none().withSteps(2).withCandidates(1)), RunContext.quiet());
        // one candidate: nothing to choose, so the embedding is candidate 0
        assertArrayEquals(rowOf(r.candidates(), 0), rowOf(r.imageEmbeds(), 0));
        assertEquals(0, r.chosen()[0]);
        assertThrows(InvalidRequestException.class, () -> prior.sample(t, text.emptyPrompt(),
                DiffusionRequest.of(SEED, 1).withOverrides(SamplerOverrides.none().withCandidates(9)),
                RunContext.quiet()));
    }

    @Test
    void priorCandidateNoiseDependsOnImageAndCandidateOnly() {
        TextConditioning one = text.encode(List.of("a red circle"), RunContext.quiet());
        SamplerOverrides few = SamplerOverrides.none().withSteps(4);
        PriorResult batch = prior.sample(one.repeat(0, 3), text.emptyPrompt(),
                new DiffusionRequest(SEED, new int[] {0, 1, 2}, few), RunContext.quiet());
        for (int i = 0; i < 3; i++) {
            PriorResult alone = prior.sample(one, text.emptyPrompt(), new DiffusionRequest(SEED, new int[] {i}, few),
                    RunContext.quiet());
            assertArrayEquals(rowOf(batch.imageEmbeds(), i), rowOf(alone.imageEmbeds(), 0), "image " + i);
        }
    }

    // ---- decoder ----

    @Test
    void decoderMakesBaseImagesWithGuidanceInOneCallPerStep() {
        Tensor embeds = embeds(2);
        TextConditioning t = text.encode(List.of("a red circle"), RunContext.quiet()).repeat(0, 2);
        long runsBefore = decoder.stage().session().runCount();
        DiffusionOutput out = decoder.decode(embeds, t, text.emptyPrompt(), DiffusionRequest.of(SEED, 2), null,
                RunContext.quiet());
        assertArrayEquals(new long[] {2, 3, 8, 8}, out.images().shape());
        assertEquals(25, out.settings().steps());
        assertEquals(8.0, out.settings().guidanceScale());
        assertEquals(25, out.timings().modelCalls(), "cond and uncond in one call per step");
        assertEquals(25, decoder.stage().session().runCount() - runsBefore);
        assertTrue(out.timings().ortNanos() > 0 && out.timings().wallNanos() >= out.timings().ortNanos());
        assertFalse(java.util.Arrays.equals(rowOf4(out.images(), 0), rowOf4(out.images(), 1)));
    }

    @Test
    void decoderOutputThatIsNotFiniteIsRefusedNamingTheEmbeddings() {
        float[] huge = new float[2 * 16];
        for (int i = 0; i < huge.length; i++) {
            huge[i] = i % 2 == 0 ? 1e30f : -1e30f;
        }
        DiffusionRequest req = DiffusionRequest.of(SEED, 2).withOverrides(SamplerOverrides.none().withSteps(2));
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> decoder.decode(
                Tensor.of(huge, 2, 16), null, text.emptyPrompt(), req, null, RunContext.quiet()));
        assertEquals("image_embeds", e.field());
        assertTrue(e.getMessage().contains("decoder's output is not finite (NaN/Inf)"), e.getMessage());
        assertEquals("NonFiniteOutputException", e.getClass().getSimpleName());
    }

    @Test
    void sameSeedGivesBitIdenticalImages() {
        Tensor embeds = embeds(2);
        DiffusionRequest req = DiffusionRequest.of(SEED, 2).withOverrides(SamplerOverrides.none().withSteps(6));
        Tensor a = decoder.decode(embeds, null, text.emptyPrompt(), req, null, RunContext.quiet()).images();
        Tensor b = decoder.decode(embeds, null, text.emptyPrompt(), req, null, RunContext.quiet()).images();
        assertArrayEquals(a.toArray(), b.toArray());
        Tensor c = decoder.decode(embeds, null, text.emptyPrompt(), new DiffusionRequest(SEED + 1, new int[] {0, 1},
                req.overrides()), null, RunContext.quiet()).images();
        assertFalse(java.util.Arrays.equals(a.toArray(), c.toArray()));
    }

    @Test
    void batchOfNEqualsNOneByOne() {
        int n = 3;
        Tensor embeds = embeds(n);
        TextConditioning t = text.encode(List.of("a red circle"), RunContext.quiet());
        SamplerOverrides few = SamplerOverrides.none().withSteps(5);
        DiffusionOutput batch = decoder.decode(embeds, t.repeat(0, n), text.emptyPrompt(),
                DiffusionRequest.of(SEED, n).withOverrides(few), null, RunContext.quiet());
        DiffusionOutput upBatch = up32.upsample(batch.images(), embeds, DiffusionRequest.of(SEED, n)
                .withOverrides(SamplerOverrides.none().withSteps(3)), null, RunContext.quiet());
        for (int i = 0; i < n; i++) {
            DiffusionRequest alone = new DiffusionRequest(SEED, new int[] {i}, few);
            Tensor one = decoder.decode(Tensors.row(embeds, i), t, text.emptyPrompt(), alone, null,
                    RunContext.quiet()).images();
            assertArrayEquals(rowOf4(batch.images(), i), one.toArray(), "decoder image " + i);
            Tensor upOne = up32.upsample(one, Tensors.row(embeds, i), new DiffusionRequest(SEED, new int[] {i},
                    SamplerOverrides.none().withSteps(3)), null, RunContext.quiet()).images();
            assertArrayEquals(rowOf4(upBatch.images(), i), upOne.toArray(), "upsampled image " + i);
        }
    }

    @Test
    void decoderNoiseIsTheDocumentedStageNoise() {
        // x_T of image i is the first draws of NoiseSeeds stream (seed, "decoder", i, 0): StageNoise agrees
        float[] ours = new float[192];
        float[] theirs = new float[192];
        RowNoise.of(SEED, DecoderStage.NOISE_STREAM, 0, new int[] {4}).fill(0, ours, 0, 192);
        StageNoise.forImages(SEED, "decoder", 0, 4).fill(0, theirs, 0, 192);
        assertArrayEquals(theirs, ours);
    }

    @Test
    void overridesChangeTheStepsActuallyRun() {
        Tensor embeds = embeds(1);
        for (int steps : new int[] {1, 3, 7}) {
            long before = decoder.stage().session().runCount();
            DiffusionOutput out = decoder.decode(embeds, null, text.emptyPrompt(), DiffusionRequest.of(SEED, 1)
                    .withOverrides(SamplerOverrides.none().withSteps(steps)), null, RunContext.quiet());
            assertEquals(steps, out.timings().modelCalls());
            assertEquals(steps, decoder.stage().session().runCount() - before);
            assertEquals(String.valueOf(steps), out.settings().respacing());
        }
        SamplerSettings ddim = decoder.settings(SamplerOverrides.none().withSampler("ddim").withEta(0.5)
                .withRespacing("ddim10").withGuidanceScale(3.0).withClipRange(Double.POSITIVE_INFINITY));
        assertEquals("ddim, ddim10 (10 steps), eta 0.5, guidance 3, clip none", ddim.describe());
        // the prior's manifest uses ddim strides: steps keep that style when a stride exists
        assertEquals("ddim10", prior.settings(SamplerOverrides.none().withSteps(10)).respacing());
        assertEquals("999", prior.settings(SamplerOverrides.none().withSteps(999)).respacing());
        assertEquals(1.0, prior.settings(SamplerOverrides.none().withGuidanceScale(1.0)).guidanceScale());
        // a consistency decoder's trailing spacing: steps stay trailing, and eta is refused
        io.unclip.engine.model.DiffusionSpec cd = new io.unclip.engine.model.DiffusionSpec("cosine", 1000, "epsilon",
                "learned_range", java.util.OptionalDouble.of(1.0), "consistency", "trailing4", 0.0, 1.0, 1);
        SamplerSettings two = SamplerSettings.resolve("decoder", cd, SamplerOverrides.none().withSteps(2));
        assertEquals("consistency, trailing2 (2 steps), eta 0, guidance 1, clip 1", two.describe());
        assertTrue(two.sampler(cd).step() instanceof io.unclip.engine.diffusion.ConsistencyStep);
        assertMessage("decoder.eta: applies to the ddim sampler only (this run uses consistency)",
                () -> SamplerSettings.resolve("decoder", cd, SamplerOverrides.none().withEta(0.2)));
        assertEquals("ddim, trailing4 (4 steps), eta 0, guidance 1, clip 1", SamplerSettings.resolve("decoder", cd,
                SamplerOverrides.none().withSampler("ddim")).describe());
    }

    @Test
    void badOverridesNameTheField() {
        assertMessage("decoder.steps: must be between 1 and 1000, got 0",
                () -> decoder.settings(SamplerOverrides.none().withSteps(0)));
        assertMessage("decoder.eta: applies to the ddim sampler only (this run uses ddpm)",
                () -> decoder.settings(SamplerOverrides.none().withEta(0.3)));
        assertMessage("decoder.sampler: is 'plms', expected ddpm, ddim, consistency",
                () -> decoder.settings(SamplerOverrides.none().withSampler("plms")));
        assertMessage("decoder.guidance_scale: must be in [0, 50], got 51.0",
                () -> decoder.settings(SamplerOverrides.none().withGuidanceScale(51.0)));
        assertMessage("decoder.steps: give steps or respacing, not both",
                () -> decoder.settings(SamplerOverrides.none().withSteps(3).withRespacing("4")));
        assertTrue(assertThrows(InvalidRequestException.class, () -> decoder.settings(SamplerOverrides.none()
                .withRespacing("ddim7x"))).getMessage().startsWith("decoder.respacing: respacing 'ddim7x': '7x' is not a step"));
        assertTrue(assertThrows(InvalidRequestException.class, () -> decoder.settings(SamplerOverrides.none()
                .withRespacing("5,600"))).getMessage().startsWith("decoder.respacing: '5,600' is not usable"),
                "the chain's length is the model's to check");
        assertMessage("upsampler.guidance_scale: upsampler_32 has no conditioning to guide (no image_embeds input);"
                + " use 1", () -> up32.settings(SamplerOverrides.none().withGuidanceScale(2.0)));
    }

    @Test
    void cancellationStopsWithinOneStep() {
        // the cancel is raised on the scheduler's thread right after the 3rd model call: the next
        // step boundary drops the request, so no 4th call is made. The caller hears of at most
        // those 3 steps (its thread may lag the scheduler's), and the error says what it heard
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger progressEvents = new AtomicInteger();
        SchedulerObserver countCalls = new SchedulerObserver() {
            @Override
            public void modelCall(String scheduler, int rows, long nanos) {
                calls.incrementAndGet();
            }
        };
        DecoderStage counted = new DecoderStage(bundle.stage("decoder"), new Scheduling(SchedulerConfig.DEFAULT,
                countCalls));
        StageListener l = new StageListener() {
            @Override
            public void progress(StageProgress e) {
                progressEvents.incrementAndGet();
            }
        };
        RunContext ctx = new RunContext(l, () -> calls.get() >= 3, 0);
        try {
            SamplingCancelledException e = assertThrows(SamplingCancelledException.class, () -> counted.decode(
                    embeds(2), null, text.emptyPrompt(), DiffusionRequest.of(SEED, 2), null, ctx));
            assertEquals(25, e.totalSteps());
            assertEquals(3, calls.get(), "no model call after the cancel");
            assertTrue(progressEvents.get() <= 3, progressEvents + " progress events");
            assertEquals(progressEvents.get(), e.completedSteps(), "cancelled after the last step it was told of");
        } finally {
            counted.scheduler().close();
        }
        assertThrows(SamplingCancelledException.class, () -> text.encode(List.of("a red circle"),
                RunContext.quiet().withCancellation(() -> true)));
    }

    @Test
    void progressAndThrottledPreviews() {
        List<StageProgress> events = new ArrayList<>();
        List<Object> order = new ArrayList<>();
        StageListener l = new StageListener() {
            @Override
            public void stageStarted(StageStarted e) {
                order.add(e);
            }

            @Override
            public void progress(StageProgress e) {
                events.add(e);
            }

            @Override
            public void stageFinished(StageTimings t) {
                order.add(t);
            }
        };
        DiffusionOutput out = decoder.decode(embeds(2), null, text.emptyPrompt(), DiffusionRequest.of(SEED, 2)
                .withOverrides(SamplerOverrides.none().withSteps(5)), null, new RunContext(l, null, 2));
        assertEquals(5, events.size());
        List<Integer> withPreview = events.stream().filter(e -> e.preview() != null).map(StageProgress::step).toList();
        assertEquals(List.of(2, 4, 5), withPreview);
        StageProgress last = events.get(4);
        assertEquals("decoder", last.stage());
        assertEquals(5, last.total());
        assertArrayEquals(new long[] {2, 3, 8, 8}, last.preview().shape());
        assertEquals(2, order.size());
        StageStarted started = (StageStarted) order.get(0);
        assertEquals(5, started.totalSteps());
        assertEquals(2, started.rows());
        assertEquals(out.timings(), order.get(1));
        // the prior has no image: no previews
        List<StageProgress> priorEvents = new ArrayList<>();
        prior.sample(text.encode(List.of("a red circle"), RunContext.quiet()), text.emptyPrompt(),
                DiffusionRequest.of(SEED, 1).withOverrides(SamplerOverrides.none().withSteps(3)),
                new RunContext(new StageListener() {
                    @Override
                    public void progress(StageProgress e) {
                        priorEvents.add(e);
                    }
                }, null, 1));
        assertEquals(3, priorEvents.size());
        assertTrue(priorEvents.stream().allMatch(e -> e.preview() == null));
    }

    // ---- upsamplers ----

    @Test
    void upsamplersChainFourTimesEach() {
        Tensor base = decoder.decode(embeds(2), null, text.emptyPrompt(), DiffusionRequest.of(SEED, 2)
                .withOverrides(SamplerOverrides.none().withSteps(2)), null, RunContext.quiet()).images();
        DiffusionOutput a = up32.upsample(base, null, DiffusionRequest.of(SEED, 2), null, RunContext.quiet());
        assertArrayEquals(new long[] {2, 3, 32, 32}, a.images().shape());
        assertEquals("ddim10", a.settings().respacing());
        assertEquals(10, a.timings().modelCalls());
        assertEquals(0, a.timings().cascadeStep());
        DiffusionOutput b = up128.upsample(a.images(), null, DiffusionRequest.of(SEED, 2), null, RunContext.quiet());
        assertArrayEquals(new long[] {2, 3, 128, 128}, b.images().shape());
        assertEquals(5, b.timings().modelCalls());
        assertEquals(1, b.timings().cascadeStep());
        assertEquals(ImageResize.Mode.BILINEAR, up32.lowResResize());
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
                () -> up128.upsample(base, null, DiffusionRequest.of(SEED, 2), null, RunContext.quiet()));
        assertEquals("upsampler_128: expects 2 images of 3x32x32, got Tensor[2, 3, 8, 8]", wrong.getMessage());
    }

    // ---- inpainting ----

    @Test
    void inpaintingKeepsKnownPixels() {
        Tensor image = Tensor.zeros(1, 3, 8, 8);
        Tensor mask = Tensor.zeros(1, 1, 8, 8); // regenerate mask: right half white
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 64; i++) {
                image.set(c * 64 + i, (float) Math.sin(i * 0.3 + c));
            }
        }
        for (int y = 0; y < 8; y++) {
            for (int x = 4; x < 8; x++) {
                mask.set(y * 8 + x, 1f);
            }
        }
        Inpainting known = Inpainting.fromRegenerateMask(image, mask);
        Tensor out = decoder.decode(embeds(2), null, text.emptyPrompt(), DiffusionRequest.of(SEED, 2), known,
                RunContext.quiet()).images();
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 8; y++) {
                    for (int x = 0; x < 4; x++) {
                        assertEquals(image.get(c * 64 + y * 8 + x), out.get(((n * 3 + c) * 8 + y) * 8 + x), 1e-6);
                    }
                }
            }
        }
        float differs = 0;
        for (int y = 0; y < 8; y++) {
            differs += Math.abs(out.get(y * 8 + 6) - image.get(y * 8 + 6));
        }
        assertTrue(differs > 0.1, "masked pixels are regenerated");
    }

    // ---- captioner, image encoder ----

    @Test
    void captionerStreamsGreedyTokens() {
        Tensor images = embedsImages();
        List<CaptionToken> streamed = new ArrayList<>();
        List<Caption> captions = captioner.caption(images, "short", 6, streamed::add, RunContext.quiet());
        assertEquals(2, captions.size());
        assertEquals(List.of("short", "descriptive"), captioner.styles());
        assertEquals(22, captioner.maxTokens());
        for (int n = 0; n < 2; n++) {
            Caption c = captions.get(n);
            int image = n;
            String joined = String.join("", streamed.stream().filter(t -> t.imageIndex() == image)
                    .map(CaptionToken::text).toList());
            assertEquals(c.text(), joined);
            assertTrue(c.tokenIds().length <= 6);
            assertEquals(c.tokenIds().length, c.logprobs().length);
            for (float lp : c.logprobs()) {
                assertTrue(lp <= 0 && lp > -100);
            }
            for (long id : c.tokenIds()) {
                assertTrue(id != 0 && id != 1 && id != 2 && id != 37 && id != 38, "no special or style token: " + id);
            }
        }
        List<Caption> again = captioner.caption(images, "short", 6, null, RunContext.quiet());
        assertEquals(captions.get(0).text(), again.get(0).text());
        assertNotNull(captioner.caption(images, "descriptive", 3, null, RunContext.quiet()).get(0).text());
        assertMessage("style: is 'poetic', this captioner has short, descriptive",
                () -> captioner.caption(images, "poetic", 3, null, RunContext.quiet()));
        assertMessage("max_tokens: must be between 1 and 22, got 23",
                () -> captioner.caption(images, null, 23, null, RunContext.quiet()));
    }

    @Test
    void imageEncoderAcceptsAnySize() {
        Tensor big = Tensor.zeros(1, 3, 64, 48);
        for (int i = 0; i < big.size(); i++) {
            big.set(i, (float) Math.cos(i * 0.01));
        }
        Tensor e = imageEncoder.encode(big, RunContext.quiet());
        assertArrayEquals(new long[] {1, 16}, e.shape());
        Tensor e2 = imageEncoder.encode(embedsImages(), RunContext.quiet());
        assertArrayEquals(new long[] {2, 16}, e2.shape());
    }

    // ---- helpers ----

    private static Tensor embeds(int n) {
        Tensor e = Tensor.zeros(n, 16);
        for (int i = 0; i < e.size(); i++) {
            e.set(i, (float) Math.sin(i * 0.7));
        }
        return e;
    }

    /** Two 32x32 test images. */
    private static Tensor embedsImages() {
        Tensor t = Tensor.zeros(2, 3, 32, 32);
        for (int i = 0; i < t.size(); i++) {
            t.set(i, (float) Math.sin(i * 0.05 + (i >= 3072 ? 1 : 0)));
        }
        return t;
    }

    static float[] rowOf(Tensor t, int r) {
        int d = t.itemSize();
        float[] out = new float[d];
        t.buffer().get(r * d, out);
        return out;
    }

    static float[] rowOf4(Tensor t, int r) {
        return rowOf(t, r);
    }

    private static long sum(long[] v, int from, int to) {
        long s = 0;
        for (int i = from; i < to; i++) {
            s += v[i];
        }
        return s;
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable e) {
        assertEquals(expected, assertThrows(IllegalArgumentException.class, e).getMessage());
    }
}
