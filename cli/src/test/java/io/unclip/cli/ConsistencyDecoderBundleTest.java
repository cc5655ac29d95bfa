package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import io.unclip.cli.eval.Images;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.engine.stage.StageTimings;
import io.unclip.shapes.Judgement;
import io.unclip.shapes.SceneJudge;

/**
 * The consistency-distilled decoder of the shipped overlay bundle (models/bundle/consistency), judged by
 * Shapes-World's judge: in its default 4 steps and in 1 it draws the prompt, with one model call per step and no
 * unconditional rows (its guidance is distilled in). Fixed seeds: the same images every run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsistencyDecoderBundleTest {
    static final String BUNDLE = "../models/bundle/consistency";
    private static final String PROMPT = "a large blue square at the bottom left on a gray background";
    private Cascade cascade;

    @TempDir
    Path tmp;

    @BeforeAll
    void open() {
        cascade = Cascade.open(Path.of(BUNDLE), RuntimeOptions.defaults().withThreads(2, 1));
    }

    @AfterAll
    void close() {
        cascade.close();
    }

    private GenerationResult generate(SamplerOverrides decoder) {
        return cascade.generate(new GenerationRequest(PROMPT, 4, 11L, 32, StageOverrides.none().withDecoder(decoder),
                0), null, () -> false);
    }

    private static StageTimings decoderTimings(GenerationResult r) {
        return r.timings().stream().filter(t -> t.kind() == StageKind.DECODER).findFirst().orElseThrow();
    }

    private static int allRight(GenerationResult r) {
        int right = 0;
        for (int i = 0; i < r.count(); i++) {
            Judgement j = SceneJudge.judge(Images.toRgb(r.images(), i), PROMPT);
            if (j.allCorrect()) {
                right++;
            }
        }
        return right;
    }

    @Test
    void fourStepsByDefaultOneCallEachAndThePromptIsDrawn() {
        GenerationResult r = generate(SamplerOverrides.none());
        assertEquals("consistency, trailing4 (4 steps), eta 0, guidance 1, clip 1",
                r.parameters().stages().get("decoder").describe());
        StageTimings t = decoderTimings(r);
        assertEquals(4, t.steps());
        assertEquals(4, t.modelCalls());
        assertEquals(4, allRight(r), "every image has every attribute of the prompt");
    }

    @Test
    void oneStepStillDrawsThePrompt() {
        GenerationResult r = generate(SamplerOverrides.none().withSteps(1));
        assertEquals("trailing1", r.parameters().stages().get("decoder").respacing());
        assertEquals(1, decoderTimings(r).modelCalls());
        assertTrue(allRight(r) >= 3, allRight(r) + " of 4 right in one step");
    }

    @Test
    void theCommandLineRunsItAndRefusesEta() throws Exception {
        Path out = tmp.resolve("c.png");
        UnclipCommandTest.Result ok = UnclipCommandTest.run("generate", PROMPT, "--models", BUNDLE, "--size", "32",
                "--seed", "3", "--decoder-steps", "2", "-o", out.toString());
        assertEquals(0, ok.code(), ok.err());
        assertTrue(Files.size(out) > 0);
        assertTrue((ok.out() + ok.err()).matches("(?s).*decoder +2 steps.*"), ok.out() + ok.err());
        UnclipCommandTest.Result eta = UnclipCommandTest.run("generate", PROMPT, "--models", BUNDLE, "--eta", "0.3");
        assertEquals(2, eta.code());
        assertEquals(List.of("unclip: --eta: applies to the ddim sampler only (this run uses consistency)"),
                eta.errLines());
    }
}
