package io.unclip.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.model.ModelRepositoryException;
import io.unclip.engine.onnx.Fixtures;
import io.unclip.engine.stage.Caption;
import io.unclip.engine.stage.CaptionToken;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.stage.PriorResult;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.engine.stage.StageProgress;
import io.unclip.engine.stage.StageStarted;
import io.unclip.engine.stage.StageTimings;
import io.unclip.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded cascade end to end on the tiny bundle. */
class CascadeTest {
    private static final String PROMPT = "a small red circle at the top left";
    /** Few steps everywhere: the tiny models are random, only the plumbing is under test. */
    private static final StageOverrides FAST = StageOverrides.none()
            .withPrior(SamplerOverrides.none().withSteps(3))
            .withDecoder(SamplerOverrides.none().withSteps(4))
            .withUpsampler(SamplerOverrides.none().withSteps(2));
    private static Cascade cascade;

    @BeforeAll
    static void open() {
        cascade = Cascade.open(Fixtures.tinyBundle(), Fixtures.lightCpu());
    }

    @AfterAll
    static void close() {
        cascade.close();
    }

    private static GenerationRequest request() {
        return GenerationRequest.of(PROMPT).withSeed(42L).withOverrides(FAST);
    }

    @Test
    void reachableSizes() {
        assertEquals(List.of(8, 32, 128), cascade.sizes());
    }

    @Test
    void generateRunsEveryStageUpToTheSize() {
        Recorder rec = new Recorder();
        GenerationResult r = cascade.generate(request().withNumImages(2).withSize(32), rec, null);
        assertArrayEquals(new long[] {2, 3, 32, 32}, r.images().shape());
        assertEquals(List.of("text_encoder", "prior", "decoder", "upsampler_32"),
                r.timings().stream().map(StageTimings::stage).toList());
        assertEquals(List.of(1, 3, 4, 2), r.timings().stream().map(StageTimings::modelCalls).toList());
        GenerationParameters p = r.parameters();
        assertEquals(42L, p.seed());
        assertEquals(32, p.size());
        assertEquals(List.of(8, 32), p.sizes());
        assertEquals(List.of("prior", "decoder", "upsampler_32"), List.copyOf(p.stages().keySet()));
        assertEquals(4, p.stages().get("decoder").steps());
        assertEquals(2, p.stages().get("prior").candidates()); // the manifest says nothing: DALL-E 2's best of 2
        assertEquals("tiny", p.bundleName());
        // events: started, then per stage started/progress/finished, then the result
        assertEquals("started", rec.kinds.get(0));
        assertEquals("result", rec.kinds.get(rec.kinds.size() - 1));
        assertEquals(42L, rec.started.seed());
        assertEquals(4, rec.kinds.stream().filter("stageStarted"::equals).count());
        assertEquals(4, rec.kinds.stream().filter("stageFinished"::equals).count());
        assertEquals(1 + 3 + 4 + 2, rec.kinds.stream().filter("progress"::equals).count());
        PriorResult prior = r.prior().orElseThrow();
        assertEquals(4, prior.candidates().dim(0));
    }

    @Test
    void sizeSelectsHowManyUpsamplersRun() {
        assertArrayEquals(new long[] {1, 3, 8, 8}, cascade.generate(request().withSize(8), null, null).images().shape());
        GenerationResult big = cascade.generate(request(), null, null);
        assertArrayEquals(new long[] {1, 3, 128, 128}, big.images().shape());
        assertEquals(List.of("text_encoder", "prior", "decoder", "upsampler_32", "upsampler_128"),
                big.timings().stream().map(StageTimings::stage).toList());
    }

    @Test
    void sameSeedSameImagesAndBatchEqualsOneByOne() {
        GenerationResult three = cascade.generate(request().withNumImages(3).withSize(32), null, null);
        GenerationResult again = cascade.generate(request().withNumImages(3).withSize(32), null, null);
        assertArrayEquals(three.images().toArray(), again.images().toArray());
        GenerationResult one = cascade.generate(request().withNumImages(1).withSize(32), null, null);
        float[] first = new float[3 * 32 * 32];
        three.images().buffer().get(0, first);
        assertArrayEquals(one.images().toArray(), first, "image 0 alone == image 0 of a batch of 3");
        GenerationResult other = cascade.generate(request().withSeed(43L).withSize(32), null, null);
        assertFalse(java.util.Arrays.equals(one.images().toArray(), other.images().toArray()));
    }

    @Test
    void absentSeedIsRandomAndReported() {
        Recorder rec = new Recorder();
        GenerationResult r = cascade.generate(GenerationRequest.of(PROMPT).withOverrides(FAST).withSize(8), rec, null);
        assertEquals(rec.started.seed(), r.parameters().seed());
        GenerationResult replay = cascade.generate(request().withSeed(r.parameters().seed()).withSize(8), null, null);
        assertArrayEquals(r.images().toArray(), replay.images().toArray());
    }

    @Test
    void requestValidation() {
        assertInvalid("prompt: must not be empty", request().withPrompt("  "));
        assertInvalid("prompt: is 257 characters long, the limit is 256", request().withPrompt("a".repeat(257)));
        assertInvalid("prompt: contains the control character U+0007", request().withPrompt("a red\u0007circle"));
        assertInvalid("num_images: must be between 1 and 8, got 0", request().withNumImages(0));
        assertInvalid("num_images: must be between 1 and 8, got 9", request().withNumImages(9));
        assertInvalid("size: 64 is not a size this bundle makes; it makes 8, 32, 128", request().withSize(64));
        assertInvalid("prompt: uses a word outside the model's vocabulary: 'dog'", request().withPrompt("a red dog"));
        assertInvalid("decoder.steps: must be between 1 and 1000, got 0",
                request().withDecoder(SamplerOverrides.none().withSteps(0)));
        assertInvalid("prior.candidates: must be between 1 and 8, got 0", request().withPrior(SamplerOverrides.none().withCandidates(0)));
    }

    @Test
    void promptsLongerThanTheContextAreCutWithAWarning() {
        List<String> warnings = new ArrayList<>();
        String longPrompt = "a small red circle at the top left and a small blue square at the bottom right and a"
                + " large green triangle at the center";
        GenerationResult r = cascade.generate(request().withPrompt(longPrompt).withSize(8), new CascadeListener() {
            @Override
            public void warning(String message) {
                warnings.add(message);
            }
        }, null);
        assertEquals(List.of("prompt: longer than the text encoder's 24 tokens; the end was cut"), warnings);
        assertEquals(warnings, r.warnings());
    }

    @Test
    void cancellationStopsTheCascade() {
        AtomicInteger decoderSteps = new AtomicInteger();
        Recorder rec = new Recorder() {
            @Override
            public void progress(StageProgress e) {
                super.progress(e);
                if (e.stage().equals("decoder")) {
                    decoderSteps.set(e.step());
                }
            }
        };
        SamplingCancelledException e = assertThrows(SamplingCancelledException.class,
                () -> cascade.generate(request(), rec, () -> decoderSteps.get() >= 2));
        // progress reaches the listener while the decoder steps on: it stops at the next step boundary, or,
        // for a model this small, the upsampler never starts
        assertTrue(e.completedSteps() < e.totalSteps(), e.getMessage());
        assertFalse(rec.stages.contains("upsampler_32"));
        assertFalse(rec.kinds.contains("result"));
    }

    @Test
    void previewsComeAtTheInterval() {
        Recorder rec = new Recorder();
        cascade.generate(request().withSize(32).withPreviewInterval(2), rec, null);
        assertEquals(List.of("decoder:2", "decoder:4", "upsampler_32:2"), rec.previews);
    }

    @Test
    void variations() {
        Tensor image = cascade.generate(request().withSize(32), null, null).images();
        GenerationResult v = cascade.variations(VariationsRequest.of(image, 2).withSeed(7L).withSize(32)
                .withOverrides(FAST), null, null);
        assertArrayEquals(new long[] {2, 3, 32, 32}, v.images().shape());
        assertEquals(List.of("image_encoder", "decoder", "upsampler_32"),
                v.timings().stream().map(StageTimings::stage).toList());
        assertFalse(java.util.Arrays.equals(row(v.images(), 0), row(v.images(), 1)), "variations differ");
        GenerationResult withPrompt = cascade.variations(VariationsRequest.of(image, 1).withSeed(7L).withSize(8)
                .withPrompt("a blue square").withOverrides(FAST), null, null);
        assertEquals("a blue square", withPrompt.parameters().prompt());
        assertEquals("variations", withPrompt.parameters().mode());
    }

    @Test
    void interpolationBetweenImagesSharesNoiseAcrossFrames() {
        Tensor a = cascade.generate(request().withSize(32), null, null).images();
        Tensor b = cascade.generate(request().withSeed(5L).withSize(32), null, null).images();
        Tensor c = cascade.generate(request().withSeed(6L).withSize(32), null, null).images();
        GenerationResult ab = cascade.interpolate(InterpolationRequest.between(a, b, 3).withSeed(9L).withSize(32)
                .withOverrides(FAST), null, null);
        GenerationResult ac = cascade.interpolate(InterpolationRequest.between(a, c, 3).withSeed(9L).withSize(32)
                .withOverrides(FAST), null, null);
        assertArrayEquals(new long[] {3, 3, 32, 32}, ab.images().shape());
        assertEquals(3, ab.parameters().extra().get("frames"));
        // frame 0 is image a's embedding, decoded with the same noise in both runs
        assertArrayEquals(row(ab.images(), 0), row(ac.images(), 0));
        assertFalse(java.util.Arrays.equals(row(ab.images(), 2), row(ac.images(), 2)));
        assertFalse(java.util.Arrays.equals(row(ab.images(), 0), row(ab.images(), 1)));
    }

    @Test
    void interpolationTowardsAPrompt() {
        Tensor a = cascade.generate(request().withSize(32), null, null).images();
        GenerationResult r = cascade.interpolate(InterpolationRequest.towards(a, "a large blue square", 4)
                .withSeed(3L).withSize(8).withOverrides(FAST), null, null);
        assertArrayEquals(new long[] {4, 3, 8, 8}, r.images().shape());
        assertEquals("a large blue square", r.parameters().extra().get("towards"));
        // without a source prompt the captioner describes the image
        assertTrue(r.timings().stream().anyMatch(t -> t.stage().equals("captioner")));
        GenerationResult given = cascade.interpolate(InterpolationRequest.towards(a, "a large blue square", 2)
                .withSourcePrompt(PROMPT).withSeed(3L).withSize(8).withOverrides(FAST), null, null);
        assertEquals(PROMPT, given.parameters().extra().get("source_prompt"));
        assertFalse(given.timings().stream().anyMatch(t -> t.stage().equals("captioner")));
        assertThrows(InvalidRequestException.class, () -> cascade.interpolate(
                InterpolationRequest.towards(a, "a red dog", 2), null, null));
        assertThrows(InvalidRequestException.class, () -> cascade.interpolate(
                InterpolationRequest.towards(a, "a red circle", 1), null, null));
    }

    @Test
    void inpaintingPreservesKnownPixels() {
        int s = 32;
        Tensor image = cascade.generate(request().withSize(s), null, null).images();
        Tensor mask = Tensor.zeros(1, 1, s, s);
        for (int i = 0; i < mask.size(); i++) {
            mask.set(i, -1f); // black: keep
        }
        for (int y = 8; y < 24; y++) {
            for (int x = 8; x < 24; x++) {
                mask.set(y * s + x, 1f); // white: regenerate
            }
        }
        GenerationResult r = cascade.inpaint(InpaintRequest.of(image, mask, "a blue square at the center")
                .withNumImages(2).withSeed(11L).withSize(s).withOverrides(FAST), null, null);
        assertArrayEquals(new long[] {2, 3, s, s}, r.images().shape());
        double keptError = 0;
        double regenerated = 0;
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < s; y++) {
                    for (int x = 0; x < s; x++) {
                        float want = image.get((c * s + y) * s + x);
                        float got = r.images().get(((n * 3 + c) * s + y) * s + x);
                        boolean hole = y >= 8 && y < 24 && x >= 8 && x < 24;
                        if (hole) {
                            regenerated += Math.abs(got - want);
                        } else {
                            keptError = Math.max(keptError, Math.abs(got - want));
                        }
                    }
                }
            }
        }
        assertTrue(keptError < 1e-5, "known pixels kept, max error " + keptError);
        assertTrue(regenerated > 1, "the hole is regenerated");
        assertEquals("inpaint", r.parameters().mode());
        assertThrows(InvalidRequestException.class, () -> cascade.inpaint(InpaintRequest.of(image,
                Tensor.zeros(1, 1, 16, 16), "a red circle"), null, null));
    }

    @Test
    void captionStreamsTokens() {
        Tensor image = cascade.generate(request().withSize(32), null, null).images();
        List<CaptionToken> tokens = new ArrayList<>();
        Caption c = cascade.caption(image, "descriptive", 5, tokens::add, null, null);
        assertEquals(c.text(), String.join("", tokens.stream().map(CaptionToken::text).toList()));
        assertEquals("descriptive", c.style());
    }

    @Test
    void pngTextCarriesTheParameters() throws IOException {
        GenerationResult r = cascade.generate(request().withNumImages(2).withSize(32), null, null);
        Map<String, String> text = r.parameters().pngText(1);
        assertEquals(PROMPT, text.get("prompt"));
        assertEquals("42", text.get("seed"));
        assertEquals("1", text.get("image_index"));
        assertEquals("32x32", text.get("size"));
        assertEquals("ddpm, 4 (4 steps), eta 0, guidance 8, clip 1", text.get("decoder"));
        assertEquals("tiny 1.0.0", text.get("bundle"));
        JsonNode json = new ObjectMapper().readTree(text.get("parameters"));
        assertEquals("42", json.get("seed").asText());
        assertEquals(4, json.get("stages").get("decoder").get("steps").asInt());
        assertEquals("ddim3", json.get("stages").get("prior").get("respacing").asText());
        assertEquals(1, json.get("image_index").asInt());
        assertEquals(Long.toUnsignedString(-1L), Requests.seedText(-1L));
    }

    @Test
    void mismatchedUpsamplerChainIsABundleError(@TempDir Path tmp) throws IOException {
        Path bundle = Fixtures.copyTree(Fixtures.tinyBundle(), tmp.resolve("tiny"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode b = (ObjectNode) json.readTree(bundle.resolve("bundle.json").toFile());
        ArrayNode stages = b.putArray("stages");
        for (String s : List.of("text_encoder", "prior", "decoder", "upsampler_128", "upsampler_32")) {
            stages.add(s);
        }
        Files.writeString(bundle.resolve("bundle.json"), json.writeValueAsString(b));
        ModelRepositoryException e = assertThrows(ModelRepositoryException.class,
                () -> Cascade.open(bundle, Fixtures.lightCpu()));
        assertEquals("bundle.json: upsampler_128 takes 32x32 images but decoder before it makes 8x8 (upsamplers run"
                + " in bundle.json order)", e.getMessage());
    }

    private static void assertInvalid(String message, GenerationRequest r) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> cascade.generate(r, null, null));
        assertEquals(message, e.getMessage());
    }

    private static float[] row(Tensor t, int r) {
        float[] out = new float[t.itemSize()];
        t.buffer().get(r * t.itemSize(), out);
        return out;
    }

    static class Recorder implements CascadeListener {
        final List<String> kinds = new ArrayList<>();
        final List<String> stages = new ArrayList<>();
        final List<String> previews = new ArrayList<>();
        JobStarted started;

        @Override
        public void started(JobStarted job) {
            started = job;
            kinds.add("started");
        }

        @Override
        public void stageStarted(StageStarted e) {
            kinds.add("stageStarted");
            stages.add(e.stage());
        }

        @Override
        public void progress(StageProgress e) {
            kinds.add("progress");
            if (e.preview() != null) {
                previews.add(e.stage() + ":" + e.step());
            }
        }

        @Override
        public void stageFinished(StageTimings t) {
            kinds.add("stageFinished");
        }

        @Override
        public void result(GenerationResult r) {
            kinds.add("result");
        }
    }
}
