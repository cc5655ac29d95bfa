package io.unclip.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.ModelBundle;
import io.unclip.engine.model.ModelRepository;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.TensorDecl;
import io.unclip.engine.onnx.OrtRuntime;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shipped demo bundle (models/bundle): every stage loads through the engine's {@link ModelRepository} (which
 * checks tensor names, types and shapes of each ONNX graph against its manifest), and one forward pass on the fixed
 * input of each stage's reference.json reproduces the PyTorch output recorded at export.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShippedBundleTest {
    static final List<String> STAGES = List.of("text_encoder", "prior", "decoder", "upsampler_128", "upsampler_512",
            "captioner", "image_encoder", "classifier");
    private static final ObjectMapper JSON = new ObjectMapper();

    private Path dir;
    private OrtRuntime runtime;
    private ModelBundle bundle;
    private final Map<String, Tensor> outputs = new HashMap<>();

    static Path bundleDir() {
        String p = System.getProperty("unclip.bundle.dir");
        return p != null ? Path.of(p) : Path.of("bundle");
    }

    @BeforeAll
    void load() {
        dir = bundleDir();
        runtime = new OrtRuntime(RuntimeOptions.defaults().withThreads(2, 1));
        bundle = new ModelRepository(runtime).load(dir);
    }

    @AfterAll
    void close() {
        if (bundle != null) {
            bundle.close();
        }
        if (runtime != null) {
            runtime.close();
        }
    }

    static JsonNode reference(Path stageDir) {
        try {
            return JSON.readTree(Files.readString(stageDir.resolve("reference.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Forward pass of one stage on its reference input (once per stage; the 512 upsampler is the slow one). */
    private synchronized Tensor forward(String stage) {
        return outputs.computeIfAbsent(stage, s -> {
            JsonNode ref = reference(dir.resolve(s));
            Map<String, Tensor> out = bundle.stage(s).session().run(ReferenceCheck.inputs(ref));
            Tensor t = out.get(ReferenceCheck.outputName(ref));
            assertTrue(t != null, s + ": no output " + ReferenceCheck.outputName(ref) + " in " + out.keySet());
            return t;
        });
    }

    @Test
    void everyStageLoadsThroughTheRepository() {
        assertEquals("shapes-demo", bundle.name());
        assertEquals(STAGES, List.copyOf(bundle.stages().keySet()));
        assertEquals(StageKind.TEXT_ENCODER, bundle.stage("text_encoder").kind());
        assertEquals(StageKind.PRIOR, bundle.stage("prior").kind());
        assertEquals(StageKind.DECODER, bundle.stage("decoder").kind());
        assertEquals(2, bundle.stagesOfKind(StageKind.UPSAMPLER).size());
        assertEquals(StageKind.CAPTIONER, bundle.stage("captioner").kind());
        assertEquals(StageKind.IMAGE_ENCODER, bundle.stage("image_encoder").kind());
        assertTrue(bundle.stage("text_encoder").tokenizer().isPresent());
        assertTrue(bundle.stage("captioner").tokenizer().isPresent());
        assertTrue(bundle.stage("prior").manifest().normalization().isPresent());
    }

    @ParameterizedTest
    @ValueSource(strings = {"text_encoder", "prior", "decoder", "upsampler_128", "upsampler_512", "captioner",
            "image_encoder"})
    void referenceInputsAreTheManifestInputs(String stage) {
        LoadedStage s = bundle.stage(stage);
        JsonNode ref = reference(dir.resolve(stage));
        List<String> declared = s.manifest().inputs().stream().map(TensorDecl::name).sorted().collect(Collectors.toList());
        List<String> given = new java.util.ArrayList<>();
        ref.get("inputs").fieldNames().forEachRemaining(given::add);
        given.sort(null);
        assertEquals(declared, given, stage);
        assertTrue(s.manifest().outputs().stream().anyMatch(t -> t.name().equals(ReferenceCheck.outputName(ref))),
                stage + ": reference output is not a manifest output");
    }

    @ParameterizedTest
    @ValueSource(strings = {"text_encoder", "prior", "decoder", "upsampler_128", "upsampler_512", "captioner",
            "image_encoder"})
    void forwardPassReproducesTheExportedReference(String stage) {
        JsonNode ref = reference(dir.resolve(stage));
        Tensor out = forward(stage);
        List<String> problems = ReferenceCheck.check(ref, out);
        assertTrue(problems.isEmpty(), () -> stage + ": " + problems.size() + " mismatches, first: "
                + problems.subList(0, Math.min(5, problems.size())));
        assertTrue(ReferenceCheck.maxAbsError(ref, out) <= 1e-4);
    }

    /** The checker itself: a reference with one value (or one sum) corrupted must be reported. */
    @ParameterizedTest
    @ValueSource(strings = {"text_encoder", "prior", "decoder", "upsampler_128", "upsampler_512", "captioner",
            "image_encoder"})
    void corruptedReferenceValueIsDetected(String stage) {
        JsonNode ref = reference(dir.resolve(stage));
        Tensor out = forward(stage);
        assertTrue(ReferenceCheck.check(ref, out).isEmpty());

        ObjectNode bad = ref.deepCopy();
        ArrayNode values = bad.has("output_values") ? (ArrayNode) bad.get("output_values")
                : (ArrayNode) bad.get("output_slices").get(bad.get("output_slices").size() - 1).get("values");
        int i = values.size() / 2;
        values.set(i, values.get(i).asDouble() + 5e-4);
        List<String> problems = ReferenceCheck.check(bad, out);
        assertEquals(1, problems.size(), problems::toString);

        if (ref.has("output_abs_sum")) {
            ObjectNode badSum = ref.deepCopy();
            badSum.put("output_abs_sum", ref.get("output_abs_sum").asDouble() * (1 + 1e-4));
            assertEquals(1, ReferenceCheck.check(badSum, out).size());
            ObjectNode badSigned = ref.deepCopy();
            badSigned.put("output_sum", ref.get("output_sum").asDouble() + 1e-4 * ref.get("output_abs_sum").asDouble());
            assertEquals(1, ReferenceCheck.check(badSigned, out).size());
        }
        ObjectNode badShape = ref.deepCopy();
        ((ArrayNode) badShape.get("output_shape")).set(0, 2);
        assertFalse(ReferenceCheck.check(badShape, out).isEmpty());
    }

    @Test
    void checkerRejectsNaN() {
        JsonNode ref = reference(dir.resolve("image_encoder"));
        Tensor out = forward("image_encoder").copy();
        out.set(3, Float.NaN);
        assertEquals(1, ReferenceCheck.check(ref, out).size());
    }

    @Test
    void inputPatternMatchesTheExportFormula() {
        // export_extra.pattern((1, 2, 2, 3), [0, 3, 5, 7]): ((3c + 5y + 7x) mod 17) / 8 - 1
        float[] f = ReferenceCheck.pattern(new long[] {1, 2, 2, 3}, new long[] {0, 3, 5, 7});
        assertEquals(-1.0f, f[0]);
        assertEquals(7 / 8.0f - 1, f[1]);
        assertEquals(14 / 8.0f - 1, f[2]);
        assertEquals(5 / 8.0f - 1, f[3]); // y=1
        assertEquals(((3 + 5 + 14) % 17) / 8.0f - 1, f[11]); // c=1, y=1, x=2
    }

    /** Small enough to clone quickly and to travel to a lent GPU (its working tree is capped at 64 MiB). */
    @Test
    void bundleStaysUnder64Mebibytes() throws IOException {
        long bytes;
        try (Stream<Path> files = Files.walk(dir)) {
            bytes = files.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        }
        assertTrue(bytes < 64L * 1024 * 1024, "bundle (with its consistency overlay) is " + bytes + " bytes");
    }
}
