package io.unclip.engine.stage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.model.ModelBundle;
import io.unclip.engine.model.ModelRepository;
import io.unclip.engine.onnx.Fixtures;
import io.unclip.engine.onnx.OrtRuntime;
import io.unclip.engine.tensor.Tensor;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decoder's best of K by CLIP similarity, against the tiny bundle (random weights, real contracts). */
class DecoderCandidatesTest {
    private static final long SEED = 77;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SamplerOverrides FEW = SamplerOverrides.none().withSteps(4);
    private static OrtRuntime runtime;
    private static ModelBundle bundle;
    private static TextEncoderStage text;
    private static ImageEncoderStage imageEncoder;
    private static DecoderStage decoder;

    @BeforeAll
    static void load() {
        runtime = new OrtRuntime(Fixtures.lightCpu());
        bundle = new ModelRepository(runtime).load(Fixtures.tinyBundle());
        text = new TextEncoderStage(bundle.stage("text_encoder"));
        imageEncoder = new ImageEncoderStage(bundle.stage("image_encoder"));
        decoder = new DecoderStage(bundle.stage("decoder"), Scheduling.DEFAULT, null, imageEncoder);
    }

    @AfterAll
    static void close() {
        bundle.close();
        runtime.close();
    }

    @Test
    void keepsTheCandidateClosestToThePromptAndCandidateZeroIsTheUnrankedImage() {
        int n = 2;
        int k = 3;
        Tensor embeds = embeds(n);
        TextConditioning prompt = text.encode(List.of("a red circle above a blue square"), RunContext.quiet())
                .repeat(0, n);
        SamplerOverrides ranked = FEW.withCandidates(k);
        DiffusionRequest request = DiffusionRequest.of(SEED, n).withOverrides(ranked);
        SamplerSettings settings = decoder.settings(ranked);
        Tensor all = decoder.candidates(settings, embeds, prompt, text.emptyPrompt(), request, null,
                RunContext.quiet()).images();
        assertArrayEquals(new long[] {n * k, 3, 8, 8}, all.shape());

        Tensor plain = decoder.decode(embeds, prompt, text.emptyPrompt(), DiffusionRequest.of(SEED, n)
                .withOverrides(FEW), null, RunContext.quiet()).images();
        Tensor embedded = imageEncoder.encode(all, RunContext.quiet());
        DiffusionOutput out = decoder.decode(embeds, prompt, text.emptyPrompt(), request, null, RunContext.quiet());
        assertArrayEquals(new long[] {n, 3, 8, 8}, out.images().shape());
        assertEquals(k, out.settings().candidates());
        assertEquals(k, out.settings().toMap().get("candidates"));
        for (int i = 0; i < n; i++) {
            assertArrayEquals(StagesTest.rowOf(plain, i), StagesTest.rowOf(all, i * k),
                    "candidate 0 of image " + i + " is the image an unranked request gets");
            assertFalse(Arrays.equals(StagesTest.rowOf(all, i * k), StagesTest.rowOf(all, i * k + 1)),
                    "candidates read their own noise");
            int best = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                double score = Tensors.cosine(StagesTest.rowOf(embedded, i * k + c), prompt.embedding(i));
                if (score > bestScore) {
                    bestScore = score;
                    best = c;
                }
            }
            assertArrayEquals(StagesTest.rowOf(all, i * k + best), StagesTest.rowOf(out.images(), i),
                    "image " + i + " is its candidate closest to the prompt");
        }
    }

    @Test
    void withoutAPromptTheCandidateClosestToItsImageEmbeddingIsKept() {
        int n = 2;
        int k = 4;
        Tensor embeds = embeds(n);
        SamplerOverrides ranked = FEW.withCandidates(k);
        DiffusionRequest request = DiffusionRequest.of(SEED, n).withOverrides(ranked);
        Tensor all = decoder.candidates(decoder.settings(ranked), embeds, null, text.emptyPrompt(), request, null,
                RunContext.quiet()).images();
        int[] kept = CandidateRanking.best(imageEncoder.encode(all, RunContext.quiet()), embeds, k);
        Tensor out = decoder.decode(embeds, null, text.emptyPrompt(), request, null, RunContext.quiet()).images();
        assertTrue(Arrays.stream(kept).anyMatch(r -> r % k != 0), "a later candidate wins somewhere, so keeping"
                + " candidate 0 would fail here");
        for (int i = 0; i < n; i++) {
            assertTrue(kept[i] / k == i, "image " + i + " keeps one of its own candidates");
            assertArrayEquals(StagesTest.rowOf(all, kept[i]), StagesTest.rowOf(out, i));
        }
    }

    @Test
    void candidatesShareEachModelCallAndPreviewCandidateZero() {
        int n = 2;
        int k = 3;
        List<StageStarted> started = new ArrayList<>();
        List<Tensor> previews = new ArrayList<>();
        StageListener listener = new StageListener() {
            @Override
            public void stageStarted(StageStarted e) {
                started.add(e);
            }

            @Override
            public void progress(StageProgress e) {
                e.previewIfAny().ifPresent(previews::add);
            }
        };
        long before = decoder.stage().session().runCount();
        DiffusionOutput out = decoder.decode(embeds(n), null, text.emptyPrompt(), DiffusionRequest.of(SEED, n)
                .withOverrides(FEW.withCandidates(k)), null, new RunContext(listener, () -> false, 1));
        assertEquals(4, out.timings().modelCalls(), "every candidate in the same call of each step");
        assertEquals(4, decoder.stage().session().runCount() - before);
        assertEquals(List.of(n * k), started.stream().map(StageStarted::rows).toList(), "one decoder run, n*k rows");
        assertEquals(4, previews.size());
        for (Tensor p : previews) {
            assertArrayEquals(new long[] {n, 3, 8, 8}, p.shape(), "previews show one image per requested image");
        }
    }

    @Test
    void refusalsNameTheField() {
        DecoderStage unranked = new DecoderStage(bundle.stage("decoder"));
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> unranked.decode(embeds(1),
                null, text.emptyPrompt(), DiffusionRequest.of(SEED, 1).withOverrides(FEW.withCandidates(2)), null,
                RunContext.quiet()));
        assertEquals("decoder.candidates: the model bundle has no image_encoder stage to rank candidates with",
                e.getMessage());
        Inpainting known = new Inpainting(Tensor.zeros(1, 3, 8, 8), Tensor.zeros(1, 1, 8, 8));
        e = assertThrows(InvalidRequestException.class, () -> decoder.decode(embeds(1), null, text.emptyPrompt(),
                DiffusionRequest.of(SEED, 1).withOverrides(FEW.withCandidates(2)), known, RunContext.quiet()));
        assertEquals("decoder.candidates: is not available for inpainting", e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> decoder.settings(FEW.withCandidates(9)));
        assertEquals("decoder.candidates: must be between 1 and 8, got 9", e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> decoder.settings(FEW.withCandidates(-1)));
        assertEquals("decoder.candidates: must be between 1 and 8, got 4294967295", e.getMessage());
        UpsamplerStage upsampler = new UpsamplerStage(bundle.stage("upsampler_32"), 0);
        e = assertThrows(InvalidRequestException.class, () -> upsampler.settings(SamplerOverrides.none()
                .withCandidates(2)));
        assertEquals("upsampler.candidates: applies to the prior and the decoder only", e.getMessage());
        assertEquals(1, decoder.settings(FEW).candidates());
        assertFalse(decoder.settings(FEW).toMap().containsKey("candidates"), "unranked runs report as before");
    }

    @Test
    void theManifestsCandidatesAreTheDefaultAndARequestOverridesThem(@TempDir Path tmp) throws IOException {
        Path dir = Fixtures.copyTree(Fixtures.tinyBundle(), tmp.resolve("tiny"));
        Path manifest = dir.resolve("decoder/manifest.json");
        ObjectNode root = (ObjectNode) JSON.readTree(manifest.toFile());
        ((ObjectNode) root.get("diffusion")).put("candidates", 3);
        JSON.writeValue(manifest.toFile(), root);
        Tensor embeds = embeds(2);
        try (ModelBundle ranked = new ModelRepository(runtime).load(dir)) {
            DecoderStage byDefault = new DecoderStage(ranked.stage("decoder"), Scheduling.DEFAULT, null,
                    new ImageEncoderStage(ranked.stage("image_encoder")));
            DiffusionOutput out = byDefault.decode(embeds, null, text.emptyPrompt(), DiffusionRequest.of(SEED, 2)
                    .withOverrides(FEW), null, RunContext.quiet());
            assertEquals(3, out.settings().candidates());
            assertArrayEquals(decoder.decode(embeds, null, text.emptyPrompt(), DiffusionRequest.of(SEED, 2)
                    .withOverrides(FEW.withCandidates(3)), null, RunContext.quiet()).images().toArray(),
                    out.images().toArray(), "the manifest's 3 is a request's 3");
            DiffusionOutput one = byDefault.decode(embeds, null, text.emptyPrompt(), DiffusionRequest.of(SEED, 2)
                    .withOverrides(FEW.withCandidates(1)), null, RunContext.quiet());
            assertEquals(1, one.settings().candidates());
            assertArrayEquals(decoder.decode(embeds, null, text.emptyPrompt(), DiffusionRequest.of(SEED, 2)
                    .withOverrides(FEW), null, RunContext.quiet()).images().toArray(), one.images().toArray());
        }
    }

    private static Tensor embeds(int n) {
        Tensor e = Tensor.zeros(n, 16);
        for (int i = 0; i < e.size(); i++) {
            e.set(i, (float) Math.cos(i * 0.3));
        }
        return e;
    }
}
