package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import io.unclip.cli.eval.Images;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.shapes.Judgement;
import io.unclip.shapes.SceneJudge;

/**
 * ADM classifier guidance with the shipped bundle's classifier, judged by Shapes-World's judge: the decoder run
 * unconditionally (guidance scale 0, so the prompt reaches it only through the classifier) draws the prompt's colour
 * and shape once the classifier steers it. Fixed seeds: the same images every run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClassifierGuidanceBundleTest {
    private static final String PROMPT = "a small green triangle at the bottom right on a gray background";
    private Cascade cascade;

    @BeforeAll
    void open() {
        cascade = Cascade.open(Path.of("../models/bundle"), RuntimeOptions.defaults().withThreads(2, 1));
    }

    @AfterAll
    void close() {
        cascade.close();
    }

    private GenerationResult generate(double cfg, Double classifier) {
        return generate(cfg, classifier, 4, 3L);
    }

    private GenerationResult generate(double cfg, Double classifier, int n, long seed) {
        SamplerOverrides decoder = SamplerOverrides.none().withGuidanceScale(cfg).withClassifierScale(classifier);
        return cascade.generate(new GenerationRequest(PROMPT, n, seed, 32, StageOverrides.none().withDecoder(decoder), 0),
                null, () -> false);
    }

    private int colourAndShapeRight(GenerationResult r) {
        int right = 0;
        for (int i = 0; i < r.images().dim(0); i++) {
            Judgement j = SceneJudge.judge(Images.toRgb(r.images(), i), PROMPT);
            if (Boolean.TRUE.equals(j.colors()) && Boolean.TRUE.equals(j.shapes())) {
                right++;
            }
        }
        return right;
    }

    @Test
    void theClassifierAloneSteersAnUnconditionalDecoderToThePromptsObject() {
        // 8 images of one fixed seed (the 2026-12-07 bundle: 7 of 8 guided, 0 unguided)
        int without = colourAndShapeRight(generate(0, null, 8, 5L));
        GenerationResult guided = generate(0, 30.0, 8, 5L);
        int with = colourAndShapeRight(guided);
        assertTrue(with >= 4 && with >= without + 3, "green triangles: " + with + " of 8 guided, " + without
                + " unguided");
        assertEquals(30.0, guided.parameters().stages().get("decoder").classifierScale());
    }

    @Test
    void withClassifierFreeGuidanceItStaysOnThePromptAndChangesTheSample() {
        GenerationResult plain = generate(3, null);
        GenerationResult guided = generate(3, 10.0);
        assertEquals(4, colourAndShapeRight(guided));
        assertNotEquals(Arrays.toString(plain.images().toArray()), Arrays.toString(guided.images().toArray()));
    }

    @Test
    void aPromptWithoutAnyLabelIsRefused() {
        SamplerOverrides decoder = SamplerOverrides.none().withClassifierScale(5.0);
        InvalidRequestException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidRequestException.class,
                () -> cascade.generate(new GenerationRequest("a white background", 1, 1L, 32,
                        StageOverrides.none().withDecoder(decoder), 0), null, () -> false));
        assertEquals("decoder.classifier_guidance", e.field());
    }
}
