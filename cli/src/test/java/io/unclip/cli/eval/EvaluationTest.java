package io.unclip.cli.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.CascadeListener;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.SamplerOverrides;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The evaluation without the command line: its phases as its progress reports them, its report, its refusals. */
class EvaluationTest {
    private static final Path BUNDLE = Path.of(System.getProperty("unclip.tiny.bundle",
            "../engine/src/test/resources/bundles/tiny"));
    private static final SamplerOverrides TWO_STEPS = SamplerOverrides.none().withSteps(2);

    @TempDir
    Path tmp;

    /** Every call the evaluation made, in order. */
    private final List<String> calls = new ArrayList<>();

    private final Evaluation.Progress progress = new Evaluation.Progress() {
        @Override
        public CascadeListener cascadeListener() {
            return new CascadeListener() {
            };
        }

        @Override
        public void warning(String message) {
            calls.add("warning " + message);
        }

        @Override
        public void started(int prompts, int numImages, int size, String bundleName, String bundleVersion) {
            calls.add("started " + prompts + "x" + numImages + "@" + size);
        }

        @Override
        public void generating(EvalPrompt p) {
            calls.add("generating " + p.id());
        }

        @Override
        public void generated(EvalPrompt p) {
            calls.add("generated " + p.id());
        }

        @Override
        public void scored(EvalPrompt p, int index, int of, int images, int allCorrect, List<String> files) {
            calls.add("scored " + p.id() + " " + index + "/" + of + " " + images + " " + files);
        }
    };

    private Evaluation evaluation(List<EvalPrompt> set, Integer size, String style) {
        StageOverrides o = StageOverrides.none().withPrior(TWO_STEPS).withDecoder(TWO_STEPS).withUpsampler(TWO_STEPS);
        return new Evaluation(new Evaluation.Settings(1, size, style, o, tmp, tmp.resolve("out"),
                tmp.resolve("out/eval.json"), Map.of("source", "generated")), set, progress);
    }

    private static Cascade tiny() {
        return Cascade.open(BUNDLE, RuntimeOptions.defaults().withCpu().withThreads(1, 1));
    }

    @Test
    void everyPromptIsGeneratedThenScoredAndTheReportIsWhatItWrote() throws Exception {
        List<EvalPrompt> set = PromptSet.generate(5, 2);
        Evaluation e = evaluation(set, 32, "descriptive");
        e.prepare();
        Evaluation.Report r = e.run(EvaluationTest::tiny);

        String a = set.get(0).id();
        String b = set.get(1).id();
        assertEquals(List.of("started 2x1@32",
                "generating " + a, "generated " + a, "scored " + a + " 1/2 1 [out/" + a + "-0.png]",
                "generating " + b, "generated " + b, "scored " + b + " 2/2 1 [out/" + b + "-0.png]"), calls);
        assertTrue(Files.exists(tmp.resolve("out/references/" + a + "-0.png")));
        assertEquals(2, r.results().generated().images());
        assertEquals(2, r.results().references().images());
        assertEquals(32, r.size());
        assertEquals("descriptive", r.captionStyle());
        ObjectMapper json = new ObjectMapper();
        assertEquals(json.valueToTree(r.document()), json.readTree(tmp.resolve("out/eval.json").toFile()));
        assertEquals("out/prompts.jsonl", json.valueToTree(r.document()).at("/run/prompts_file").asText());
    }

    @Test
    void whatTheBundleCannotDoIsBadInputBeforeAnyGeneration() {
        List<EvalPrompt> set = PromptSet.generate(5, 1);
        var size = assertThrows(Evaluation.EvalException.class, () -> evaluation(set, 64, "descriptive")
                .run(EvaluationTest::tiny));
        assertEquals(Evaluation.EvalException.Kind.BAD_INPUT, size.kind());
        assertTrue(size.getMessage().startsWith("--size 64 is not a size this bundle makes"), size.getMessage());
        var style = assertThrows(Evaluation.EvalException.class, () -> evaluation(set, 32, "poetic")
                .run(EvaluationTest::tiny));
        assertEquals(Evaluation.EvalException.Kind.BAD_INPUT, style.kind());
        assertEquals(List.of(), calls);
    }

    @Test
    void aPromptWithoutAReferenceSceneIsRefusedBeforeTheModelsLoad() {
        EvalPrompt fine = PromptSet.generate(5, 1).get(0);
        var p = new EvalPrompt("p", "a red circle at the center and a blue square at the center", 1,
                io.unclip.shapes.CaptionParser.parse("a red circle at the center and a blue square at the center"));
        var e = assertThrows(Evaluation.EvalException.class, () -> Evaluation.checkReferences(List.of(fine, p)));
        assertEquals(Evaluation.EvalException.Kind.BAD_INPUT, e.kind());
        assertTrue(e.getMessage().startsWith("prompt p '"), e.getMessage());
    }
}
