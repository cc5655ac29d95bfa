package io.unclip.engine.stage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.ModelBundle;
import io.unclip.engine.model.ModelRepository;
import io.unclip.engine.model.NpyFiles;
import io.unclip.engine.onnx.Fixtures;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.onnx.ModelSession;
import io.unclip.engine.onnx.OrtRuntime;
import io.unclip.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stages on the Karlo-shaped bundle against PyTorch (stage-reference/karlo.json, written by
 * make_karlo_fixtures.py): the decoder and super-resolution sampling loops there are written as
 * diffusers' UnCLIPPipeline writes them ([uncond; cond] rows, text_proj's own guidance branch with
 * its learned embedding, super_res_last on the last step, antialiased bicubic upscale), on the
 * engine's noise streams with DDIM eta 0.
 */
class KarloStagesTest {
    /** Several float32 steps apart from PyTorch's kernels; the effects tested are 10 to 1000 times larger. */
    private static final double SAMPLING_TOLERANCE = 1e-4;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static OrtRuntime runtime;
    private static ModelBundle bundle;
    private static JsonNode ref;
    private static TextEncoderStage text;
    private static DecoderStage decoder;
    private static UpsamplerStage superRes;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws IOException {
        runtime = new OrtRuntime(Fixtures.lightCpu());
        bundle = new ModelRepository(runtime).load(Fixtures.karloBundle());
        ref = JSON.readTree(Fixtures.resource("stage-reference/karlo.json").toFile());
        text = new TextEncoderStage(bundle.stage("text_encoder"));
        decoder = new DecoderStage(bundle.stage("decoder"));
        superRes = new UpsamplerStage(bundle.stage("super_res"), 0);
    }

    @AfterAll
    static void close() {
        bundle.close();
        runtime.close();
    }

    /** The pipeline's sampler settings here: DDIM eta 0, 4 steps (0, 250, 500, 750). */
    private static DiffusionRequest request(int rows, String respacing, double guidance) {
        return DiffusionRequest.of(ref.get("seed").asLong(), rows).withOverrides(SamplerOverrides.none()
                .withSampler("ddim").withRespacing(respacing).withEta(0.0).withGuidanceScale(guidance));
    }

    @Test
    void textEncoderMatchesTorch() {
        List<String> prompts = List.of("a red circle", "A Blue  SQUARE");
        TextConditioning t = text.encode(prompts, RunContext.quiet());
        for (int r = 0; r < 2; r++) {
            TextConditioning one = t.gather(r);
            JsonNode want = textRef(prompts.get(r));
            assertArrayEquals(longs(want.get("ids")), one.ids());
            assertArrayEquals(longs(want.get("mask")), one.mask());
            assertClose(want.get("text_embeds"), one.textEmbeds(), 1e-5, "text_embeds " + r);
            assertClose(want.get("last_hidden_state"), one.hiddenStates(), 1e-5, "last_hidden_state " + r);
        }
        assertTrue(t.truncated(1));
        assertClose(textRef("").get("text_embeds"), text.emptyPrompt().textEmbeds(), 1e-5, "empty prompt");
    }

    @Test
    void priorGraphMatchesTorch() {
        JsonNode r = ref.get("prior");
        ModelInputs in = ModelInputs.create();
        r.get("inputs").fields().forEachRemaining(e -> {
            if (e.getKey().equals("timestep") || e.getKey().equals("attention_mask")) {
                in.put(e.getKey(), longs(e.getValue()), shape(e.getValue()));
            } else {
                in.put(e.getKey(), tensor(e.getValue()));
            }
        });
        Map<String, Tensor> out = bundle.stage("prior").session().run(in);
        assertClose(r.get("output"), out.get("predicted_image_embedding"), 1e-5, "prior");
    }

    /** The learned embedding stands in for zeros in the unconditional rows, as text_proj does it. */
    @Test
    void decoderGuidesWithTheLearnedUnconditionalEmbedding() {
        JsonNode r = ref.get("decoder");
        DiffusionOutput out = decoder.decode(tensor(r.get("image_embeds")), conditioning("a red circle",
                "A Blue  SQUARE"), conditioning(""), request(2, "ddim4", ref.get("guidance_scale").asDouble()), null,
                RunContext.quiet());
        assertClose(r.get("output"), out.images(), SAMPLING_TOLERANCE, "decoder");
        double fromZeros = maxDifference(tensor(r.get("output_zero_unconditional")), out.images());
        assertTrue(fromZeros > 1e-2, "zeros instead of the learned embedding change the images only by " + fromZeros);
    }

    @Test
    void superResolutionRunsTheLastStepGraphOnTheLastStepOnly() {
        JsonNode r = ref.get("super_res");
        LoadedStage stage = bundle.stage("super_res");
        ModelSession first = stage.session();
        ModelSession last = stage.lastStepSession().orElseThrow();
        long firstBefore = first.runCount();
        long lastBefore = last.runCount();
        DiffusionOutput out = superRes.upsample(tensor(r.get("low_res")), null, request(2, "ddim4", 1.0), null,
                RunContext.quiet());
        assertEquals(3, first.runCount() - firstBefore);
        assertEquals(1, last.runCount() - lastBefore);
        assertClose(r.get("output"), out.images(), SAMPLING_TOLERANCE, "super_res");
        double fromFirstOnly = maxDifference(tensor(r.get("output_first_only")), out.images());
        assertTrue(fromFirstOnly > 1e-3, "super_res_first on every step changes the images only by " + fromFirstOnly);
    }

    /** Requests at different steps share a step: those on their last step go to the other graph, bits unchanged. */
    @Test
    void aSharedStepSplitsRowsBetweenTheGraphs() throws Exception {
        Tensor low = tensor(ref.get("super_res").get("low_res"));
        Tensor lowA = TextConditioning.gatherRows(low, new int[] {0});
        Tensor lowB = TextConditioning.gatherRows(low, new int[] {1});
        DiffusionRequest longRun = request(1, "ddim500", 1.0); // long enough for B to start and end inside it
        DiffusionRequest shortRun = request(1, "ddim4", 1.0);
        Tensor aloneA = superRes.upsample(lowA, null, longRun, null, RunContext.quiet()).images();
        Tensor aloneB = superRes.upsample(lowB, null, shortRun, null, RunContext.quiet()).images();

        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger stepOfA = new AtomicInteger();
        RunContext watchA = RunContext.of(new StageListener() {
            @Override
            public void progress(StageProgress event) {
                stepOfA.set(event.step());
                if (event.step() == 2) {
                    started.countDown();
                }
            }
        });
        CompletableFuture<Tensor> a = CompletableFuture.supplyAsync(
                () -> superRes.upsample(lowA, null, longRun, null, watchA).images());
        assertTrue(started.await(60, TimeUnit.SECONDS));
        Tensor b = superRes.upsample(lowB, null, shortRun, null, RunContext.quiet()).images();
        int aWhenBDone = stepOfA.get();
        Tensor together = a.get(60, TimeUnit.SECONDS);
        assertTrue(aWhenBDone < 500, "B's last step came while A was at step " + aWhenBDone + " of 500");
        assertArrayEquals(aloneA.toArray(), together.toArray());
        assertArrayEquals(aloneB.toArray(), b.toArray());
    }

    /** The same split, deterministically: one call with a row on its last step and one not. */
    @Test
    void oneCallWithBothKindsOfRowsRunsEachThroughItsGraph() {
        LoadedStage stage = bundle.stage("super_res");
        StageStepModel model = new StageStepModel(stage);
        Tensor early = Tensor.zeros(1, 6, 32, 32);
        Tensor last = Tensor.zeros(1, 6, 32, 32);
        for (int i = 0; i < early.size(); i++) {
            early.set(i, (float) Math.sin(i * 0.37));
            last.set(i, (float) Math.cos(i * 0.11));
        }
        Tensor out = model.predict(List.of(rows(early, 250, false), rows(last, 0, true)), 2);
        assertArrayEquals(new long[] {2, 3, 32, 32}, out.shape());
        Tensor wantEarly = alone(stage.session(), early, 250);
        Tensor wantLast = alone(stage.lastStepSession().orElseThrow(), last, 0);
        int item = wantEarly.size();
        for (int i = 0; i < item; i++) {
            assertEquals(wantEarly.get(i), out.get(i), 1e-6, "row 0 (super_res_first), value " + i);
            assertEquals(wantLast.get(i), out.get(item + i), 1e-6, "row 1 (super_res_last), value " + i);
        }
        assertTrue(maxDifference(alone(stage.session(), last, 0), wantLast) > 1e-2, "the two graphs differ");
    }

    private static Tensor alone(ModelSession session, Tensor sample, long t) {
        return session.run(ModelInputs.create().put("sample", sample).put("timestep", new long[] {t}, 1))
                .get("noise_pred");
    }

    private static io.unclip.engine.schedule.StepRows rows(Tensor sample, long t, boolean lastStep) {
        ModelInputs none = ModelInputs.create();
        return new io.unclip.engine.schedule.StepRows() {
            @Override
            public int rows() {
                return 1;
            }

            @Override
            public int outputChannels() {
                return 3;
            }

            @Override
            public long timestep() {
                return t;
            }

            @Override
            public Tensor sample() {
                return sample;
            }

            @Override
            public ModelInputs conditioning() {
                return none;
            }

            @Override
            public boolean lastStep() {
                return lastStep;
            }
        };
    }

    @Test
    void clampOutputClampsWhatTheSamplerLeavesOutside() throws IOException {
        Path copy = Fixtures.copyTree(Fixtures.karloBundle(), tmp.resolve("karlo"));
        edit(copy, "super_res", m -> m.put("clamp_output", false));
        ModelRepository repository = new ModelRepository(runtime);
        try (LoadedStage unclamped = repository.loadStage(copy, "super_res")) {
            // without x0 clipping the last DDIM step can leave the image range
            DiffusionRequest noClip = DiffusionRequest.of(7, 2).withOverrides(SamplerOverrides.none()
                    .withSampler("ddim").withRespacing("ddim4").withClipRange(Double.POSITIVE_INFINITY));
            Tensor low = tensor(ref.get("super_res").get("low_res"));
            Tensor raw = new UpsamplerStage(unclamped, 0).upsample(low, null, noClip, null, RunContext.quiet())
                    .images();
            Tensor clamped = superRes.upsample(low, null, noClip, null, RunContext.quiet()).images();
            int outside = 0;
            for (int i = 0; i < raw.size(); i++) {
                outside += Math.abs(raw.get(i)) > 1f ? 1 : 0;
                assertEquals(Math.max(-1f, Math.min(1f, raw.get(i))), clamped.get(i), "value " + i);
            }
            assertTrue(outside > 0, "nothing to clamp: the test shows nothing");
        }
    }

    /** A learned text embedding replaces the empty prompt's in the prior's unconditional rows. */
    @Test
    void priorUsesALearnedUnconditionalTextEmbedding() throws IOException {
        Path copy = Fixtures.copyTree(Fixtures.karloBundle(), tmp.resolve("karlo"));
        ModelRepository repository = new ModelRepository(runtime);
        TextConditioning cond = conditioning("a red circle");
        TextConditioning uncond = conditioning("");
        DiffusionRequest guided = request(1, "ddim4", 4.0);
        float[] plain = sample(repository, copy, cond, uncond, guided);

        edit(copy, "prior", m -> m.putObject("unconditional").put("text_embeds", "learned.npy"));
        NpyFiles.float32(copy.resolve("prior/learned.npy"), "(16,)", uncond.embedding(0));
        assertArrayEquals(plain, sample(repository, copy, cond, uncond, guided), "the same value, the same images");
        float[] other = uncond.embedding(0);
        for (int i = 0; i < other.length; i++) {
            other[i] = -other[i];
        }
        NpyFiles.float32(copy.resolve("prior/learned.npy"), "(1, 16)", other);
        float[] learned = sample(repository, copy, cond, uncond, guided);
        assertTrue(maxDifference(Tensor.of(plain, 1, 16), Tensor.of(learned, 1, 16)) > 1e-3);
        // without guidance the unconditional rows are not run at all
        assertArrayEquals(sample(repository, Fixtures.karloBundle(), cond, uncond, request(1, "ddim4", 1.0)),
                sample(repository, copy, cond, uncond, request(1, "ddim4", 1.0)));
    }

    /** CLIP-style tokenizers pad with EOS: banning padding must not ban the end of the caption. */
    @Test
    void aCaptionerPaddingWithEosStillStopsAtEos() {
        try (ModelBundle captioning = new ModelRepository(runtime).load(Fixtures.clipCaptionerBundle())) {
            LoadedStage stage = captioning.stage("captioner");
            var tokenizer = stage.tokenizer().orElseThrow();
            assertEquals(tokenizer.tokenId("<|endoftext|>").getAsLong(), tokenizer.padId());
            Caption c = new CaptionerStage(stage).caption(Tensor.zeros(1, 3, 16, 16), null, 0, null,
                    RunContext.quiet()).get(0);
            assertEquals("a red circle", c.text());
            assertEquals(3, c.tokenIds().length);
            assertTrue(c.finished());
        }
    }

    private static float[] sample(ModelRepository repository, Path bundleDir, TextConditioning cond,
                                  TextConditioning uncond, DiffusionRequest request) {
        try (LoadedStage prior = repository.loadStage(bundleDir, "prior")) {
            return new PriorStage(prior).sample(cond, uncond, request.withOverrides(request.overrides().withCandidates(1)),
                    RunContext.quiet()).imageEmbeds().toArray();
        }
    }

    private static void edit(Path bundleDir, String stage, Consumer<ObjectNode> change) throws IOException {
        Path file = bundleDir.resolve(stage).resolve("manifest.json");
        ObjectNode m = (ObjectNode) JSON.readTree(file.toFile());
        change.accept(m);
        JSON.writeValue(file.toFile(), m);
    }

    /** The text encoder's torch outputs for prompts, as the decoder's and prior's conditioning. */
    private static TextConditioning conditioning(String... prompts) {
        TextConditioning all = null;
        for (String p : prompts) {
            JsonNode t = textRef(p);
            TextConditioning one = new TextConditioning(tensor(t.get("text_embeds")), tensor(t.get("last_hidden_state")),
                    longs(t.get("ids")), longs(t.get("mask")), 10, new boolean[] {false});
            all = all == null ? one : all.concat(one);
        }
        return all;
    }

    private static JsonNode textRef(String prompt) {
        for (JsonNode t : ref.get("text")) {
            if (t.get("prompt").asText().equals(prompt)) {
                return t;
            }
        }
        throw new IllegalArgumentException("no reference for '" + prompt + "'");
    }

    private static void assertClose(JsonNode want, Tensor got, double tolerance, String what) {
        Tensor w = tensor(want);
        assertArrayEquals(w.shape(), got.shape(), what);
        double worst = maxDifference(w, got);
        assertTrue(worst <= tolerance, what + ": max abs difference from torch " + worst);
    }

    private static double maxDifference(Tensor a, Tensor b) {
        assertFalse(a.size() != b.size(), "sizes " + a + " and " + b);
        double worst = 0;
        for (int i = 0; i < a.size(); i++) {
            worst = Math.max(worst, Math.abs(a.get(i) - b.get(i)));
        }
        return worst;
    }

    private static Tensor tensor(JsonNode n) {
        JsonNode data = n.get("data");
        float[] v = new float[data.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) data.get(i).asDouble();
        }
        return Tensor.of(v, shape(n));
    }

    private static long[] shape(JsonNode n) {
        return longs(n.get("shape"));
    }

    private static long[] longs(JsonNode n) {
        JsonNode data = n.has("data") ? n.get("data") : n;
        long[] v = new long[data.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = data.get(i).asLong();
        }
        return v;
    }
}
