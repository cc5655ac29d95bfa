package io.unclip.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.unclip.engine.onnx.Device;
import io.unclip.engine.onnx.Fixtures;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.onnx.OrtRuntime;
import io.unclip.engine.tensor.Tensor;
import io.unclip.engine.text.EncodedBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private Path bundle;
    private OrtRuntime runtime;
    private ModelRepository repository;

    @BeforeEach
    void setUp() {
        bundle = Fixtures.copyTree(Fixtures.tinyBundle(), tmp.resolve("tiny"));
        runtime = new OrtRuntime(Fixtures.lightCpu());
        repository = new ModelRepository(runtime);
    }

    @AfterEach
    void tearDown() {
        runtime.close();
    }

    // ---- a good bundle ----

    @Test
    void goodBundleLoadsEveryStage() {
        try (ModelBundle b = repository.load(bundle)) {
            assertEquals("tiny", b.name());
            assertEquals("1.0.0", b.version());
            assertEquals(List.of("text_encoder", "prior", "decoder", "upsampler_32", "upsampler_128", "captioner",
                    "image_encoder"), List.copyOf(b.stages().keySet()));
            assertEquals(StageKind.UPSAMPLER, b.stage("upsampler_32").kind());
            assertEquals(2, b.stagesOfKind(StageKind.UPSAMPLER).size());
            assertEquals(7, runtime.sessions().size());
            assertEquals(Device.CPU, b.stage("decoder").session().device());
            assertTrue(b.stage("prior").tokenizer().isEmpty());
            assertEquals(24, b.stage("captioner").tokenizer().orElseThrow().contextLength());
        }
    }

    @Test
    void manifestFieldsAreParsed() {
        try (ModelBundle b = repository.load(bundle)) {
            StageManifest prior = b.stage("prior").manifest();
            assertEquals("hidden_states", prior.inputName("sample"));
            assertEquals("predicted_image_embedding", prior.outputName("prediction"));
            assertEquals("timestep", prior.inputName("timestep")); // role defaults to the name
            DiffusionSpec d = prior.diffusion().orElseThrow();
            assertEquals(new DiffusionSpec("cosine", 1000, "x0", "fixed_small", java.util.OptionalDouble.empty(),
                    "ddim", "ddim25", 0.0, 4.0, 2), d); // no candidates field: the prior keeps the best of 2
            Normalization n = prior.normalization().orElseThrow();
            assertEquals(16, n.dim());
            assertEquals(-0.0731f, n.mean()[0]);
            assertEquals(0.7288f, n.std()[0]);

            StageManifest decoder = b.stage("decoder").manifest();
            assertTrue(decoder.diffusion().orElseThrow().learnedVariance());
            assertEquals(1.0, decoder.diffusion().get().clipRange().getAsDouble());
            assertEquals(1.0, b.stage("upsampler_32").manifest().diffusion().orElseThrow().clipRange().getAsDouble());
            assertEquals(1.0, b.stage("upsampler_32").manifest().diffusion().get().guidanceScale()); // default
            assertEquals(8, decoder.resolution().orElseThrow().output().getAsInt());
            assertEquals(4, b.stage("upsampler_32").manifest().resolution().orElseThrow().scale().getAsInt());
            assertEquals("[batch,6,8,8]", decoder.outputForRole("prediction").orElseThrow().shapeText());
            assertTrue(b.stage("text_encoder").manifest().diffusion().isEmpty());
        }
    }

    @Test
    void loadedTextStageRunsFromPromptToEmbedding() {
        try (ModelBundle b = repository.load(bundle)) {
            LoadedStage text = b.stage("text_encoder");
            EncodedBatch tokens = text.tokenizer().orElseThrow().encodeBatch(List.of("a red circle", "a blue square"));
            StageManifest m = text.manifest();
            Map<String, Tensor> out = text.session().run(ModelInputs.create()
                    .put(m.inputName("input_ids"), tokens.ids(), tokens.shape())
                    .put(m.inputName("attention_mask"), tokens.attentionMask(), tokens.shape()));
            assertArrayEquals(new long[] {2, 16}, out.get(m.outputName("text_embeds")).shape());
        }
    }

    @Test
    void oneStageCanBeLoadedAlone() {
        try (LoadedStage decoder = repository.loadStage(bundle, "decoder")) {
            assertEquals(StageKind.DECODER, decoder.kind());
            assertEquals(1, runtime.sessions().size());
        }
    }

    @Test
    void unknownFieldsAreTolerated() {
        edit("decoder", m -> {
            m.put("comment", "exported by hand");
            ((ObjectNode) m.get("diffusion")).put("future_option", 3);
        });
        editBundle(b -> b.put("license", "MIT"));
        try (ModelBundle b = repository.load(bundle)) {
            assertEquals("25", b.stage("decoder").manifest().diffusion().orElseThrow().respacing());
        }
    }

    @Test
    void manifestMayFixADimensionTheModelLeavesDynamic() {
        edit("upsampler_32", m -> shape(m, "inputs", 0).set(0, 2));
        try (LoadedStage s = repository.loadStage(bundle, "upsampler_32")) {
            assertEquals("[2,6,32,32]", s.manifest().inputs().get(0).shapeText());
        }
    }

    // ---- bundles that must be refused, each naming its file ----

    @Test
    void missingBundleDirectory() {
        Path nowhere = tmp.resolve("no-such-bundle");
        assertRefused("model bundle not found: " + nowhere, () -> repository.load(nowhere));
    }

    @Test
    void missingBundleJson() throws IOException {
        Files.delete(bundle.resolve("bundle.json"));
        assertRefusedStartingWith("bundle.json: file not found", () -> repository.load(bundle));
    }

    @Test
    void stageDirectoryListedButMissing() {
        editBundle(b -> ((ArrayNode) b.get("stages")).add("upsampler_512"));
        assertRefused("upsampler_512/: stage directory listed in bundle.json is missing", () -> repository.load(bundle));
    }

    @Test
    void missingManifest() throws IOException {
        Files.delete(bundle.resolve("decoder/manifest.json"));
        assertRefusedStartingWith("decoder/manifest.json: file not found", () -> repository.load(bundle));
    }

    @Test
    void badJson() throws IOException {
        Files.writeString(bundle.resolve("decoder/manifest.json"), "{\n  \"kind\": \"decoder\",\n  \"onnx\": }\n");
        assertRefusedStartingWith("decoder/manifest.json: not valid JSON (line 3, column 11): Unexpected character ('}'",
                () -> repository.load(bundle));
    }

    @Test
    void emptyManifest() throws IOException {
        Files.writeString(bundle.resolve("decoder/manifest.json"), "");
        assertRefused("decoder/manifest.json: file is empty", () -> repository.load(bundle));
    }

    @Test
    void duplicateKey() throws IOException {
        Files.writeString(bundle.resolve("decoder/manifest.json"), "{\"kind\": \"decoder\", \"kind\": \"prior\"}");
        assertRefusedStartingWith("decoder/manifest.json: not valid JSON (line 1, column 27): Duplicate field 'kind'",
                () -> repository.load(bundle));
    }

    @Test
    void unknownSchedule() {
        edit("decoder", m -> diffusion(m).put("schedule", "cosin"));
        assertRefused("decoder/manifest.json: field 'diffusion.schedule' is 'cosin', expected one of linear, cosine,"
                + " squaredcos_cap_v2", () -> repository.load(bundle));
    }

    @Test
    void unknownPredictionVarianceSamplerAndKind() {
        edit("decoder", m -> diffusion(m).put("prediction", "v"));
        assertRefused("decoder/manifest.json: field 'diffusion.prediction' is 'v', expected one of epsilon, x0",
                () -> repository.load(bundle));
        edit("decoder", m -> diffusion(m).put("prediction", "epsilon").put("variance", "learned"));
        assertRefused("decoder/manifest.json: field 'diffusion.variance' is 'learned', expected one of fixed_small,"
                + " fixed_large, learned_range", () -> repository.load(bundle));
        edit("decoder", m -> diffusion(m).put("variance", "learned_range").put("sampler", "plms"));
        assertRefused("decoder/manifest.json: field 'diffusion.sampler' is 'plms', expected one of ddpm, ddim, consistency",
                () -> repository.load(bundle));
        edit("decoder", m -> m.put("kind", "vae"));
        assertRefused("decoder/manifest.json: field 'kind' is 'vae', expected one of text_encoder, prior, decoder,"
                + " upsampler, captioner, image_encoder, classifier", () -> repository.load(bundle));
    }

    @Test
    void badNumbers() {
        edit("decoder", m -> diffusion(m).put("train_timesteps", "1000"));
        assertRefused("decoder/manifest.json: field 'diffusion.train_timesteps' must be an integer, found string \"1000\"",
                () -> repository.load(bundle));
        edit("decoder", m -> diffusion(m).put("train_timesteps", 1000).put("clip_range", -1));
        assertRefused("decoder/manifest.json: field 'diffusion.clip_range' must be a positive number or null, found -1.0",
                () -> repository.load(bundle));
        edit("decoder", m -> diffusion(m).putNull("clip_range").put("eta", -0.5));
        assertRefused("decoder/manifest.json: field 'diffusion.eta' must be >= 0, found -0.5", () -> repository.load(bundle));
    }

    @Test
    void candidatesDefaultPerKindAndAreBounded() {
        try (ModelBundle b = repository.load(bundle)) {
            assertEquals(1, b.stage("decoder").manifest().diffusion().orElseThrow().candidates());
        }
        edit("decoder", m -> diffusion(m).put("candidates", 3));
        try (ModelBundle b = repository.load(bundle)) {
            assertEquals(3, b.stage("decoder").manifest().diffusion().orElseThrow().candidates());
        }
        edit("decoder", m -> diffusion(m).put("candidates", 9));
        assertRefused("decoder/manifest.json: field 'diffusion.candidates' must be at most 8, found 9",
                () -> repository.load(bundle));
        edit("decoder", m -> diffusion(m).put("candidates", 0));
        assertRefusedStartingWith("decoder/manifest.json: field 'diffusion.candidates' must be", () -> repository.load(bundle));
        edit("decoder", m -> diffusion(m).remove("candidates"));
        edit("upsampler_32", m -> diffusion(m).put("candidates", 2));
        assertRefused("upsampler_32/manifest.json: field 'diffusion.candidates' is for the prior and the decoder; an"
                + " upsampler samples one image per input", () -> repository.load(bundle));
    }

    @Test
    void respacingIsCheckedAgainstTrainTimesteps() {
        edit("decoder", m -> diffusion(m).put("respacing", "fast"));
        assertRefused("decoder/manifest.json: field 'diffusion.respacing' is 'fast': respacing 'fast': 'fast' is not a"
                + " step count (expected e.g. \"25\", \"10,15,20\", \"ddim25\" or \"trailing25\")",
                () -> repository.load(bundle));
        edit("decoder", m -> diffusion(m).put("respacing", "ddim600"));
        assertRefused("decoder/manifest.json: field 'diffusion.respacing' is 'ddim600': cannot create exactly 600 steps"
                + " from 1000 with an integer stride (ddim600)", () -> repository.load(bundle));
        edit("decoder", m -> diffusion(m).put("respacing", "400,400,400"));
        assertRefused("decoder/manifest.json: field 'diffusion.respacing' is '400,400,400': respacing '400,400,400':"
                + " cannot divide section 0 of 334 steps into 400", () -> repository.load(bundle));
        edit("decoder", m -> diffusion(m).put("respacing", "10,15,20"));
        repository.load(bundle).close();
    }

    @Test
    void missingRequiredField() {
        edit("decoder", m -> diffusion(m).remove("train_timesteps"));
        assertRefused("decoder/manifest.json: required field 'diffusion.train_timesteps' is missing",
                () -> repository.load(bundle));
        edit("decoder", m -> m.remove("diffusion"));
        assertRefused("decoder/manifest.json: required field 'diffusion' is missing", () -> repository.load(bundle));
    }

    @Test
    void diffusionSectionOnlyOnDiffusionStages() {
        edit("text_encoder", m -> m.set("diffusion", JSON.createObjectNode()));
        assertRefused("text_encoder/manifest.json: field 'diffusion' is only for prior, decoder and upsampler stages,"
                + " this one is a text_encoder", () -> repository.load(bundle));
    }

    @Test
    void missingOnnxFile() throws IOException {
        Files.delete(bundle.resolve("decoder/decoder.onnx"));
        assertRefused("decoder/manifest.json: file 'decoder.onnx' named in field 'onnx' does not exist",
                () -> repository.load(bundle));
    }

    @Test
    void onnxFileOutsideTheStageDirectory() {
        edit("decoder", m -> m.put("onnx", "../prior/prior.onnx"));
        assertRefused("decoder/manifest.json: field 'onnx' names '../prior/prior.onnx', which is outside the stage"
                + " directory", () -> repository.load(bundle));
    }

    @Test
    void truncatedOnnxFile() throws IOException {
        Path onnx = bundle.resolve("decoder/decoder.onnx");
        byte[] bytes = Files.readAllBytes(onnx);
        Files.write(onnx, java.util.Arrays.copyOf(bytes, bytes.length / 3));
        ModelRepositoryException e = assertThrows(ModelRepositoryException.class, () -> repository.load(bundle));
        assertTrue(e.getMessage().startsWith("decoder/decoder.onnx: cannot load ONNX model: file is truncated or not an"
                + " ONNX model ("), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertEquals(onnx, e.file().orElseThrow());
    }

    @Test
    void garbageOnnxFile() throws IOException {
        Files.writeString(bundle.resolve("decoder/decoder.onnx"), "this is not a model");
        assertRefusedStartingWith("decoder/decoder.onnx: cannot load ONNX model: ", () -> repository.load(bundle));
    }

    @Test
    void outputShapeMismatch() {
        edit("decoder", m -> {
            diffusion(m).put("variance", "fixed_small");
            shape(m, "outputs", 0).set(1, 3);
        });
        assertRefused("decoder/manifest.json: output 'out_sample' has shape [batch,6,8,8] in decoder.onnx, manifest"
                + " says [batch,3,8,8]", () -> repository.load(bundle));
        assertTrue(runtime.sessions().stream().noneMatch(s -> s.name().equals("decoder")),
                "the rejected session is released");
    }

    @Test
    void rankMismatch() {
        edit("prior", m -> shape(m, "inputs", 1).add(1));
        assertRefused("prior/manifest.json: input 'timestep' has shape [batch] in prior.onnx, manifest says [batch,1]",
                () -> repository.load(bundle));
    }

    @Test
    void manifestCannotLeaveDynamicWhatTheModelFixes() {
        // the graph fixes the context length to 24: a manifest promising any length would break callers
        edit("text_encoder", m -> shape(m, "inputs", 0).set(1, "tokens"));
        assertRefused("text_encoder/manifest.json: input 'input_ids' has shape [batch,24] in text_encoder.onnx,"
                + " manifest says [batch,tokens]", () -> repository.load(bundle));
    }

    @Test
    void tensorNameMismatch() {
        edit("decoder", m -> {
            ObjectNode t = (ObjectNode) m.get("inputs").get(1);
            t.put("name", "t").put("role", "timestep");
        });
        assertRefused("decoder/manifest.json: input 't' is declared but decoder.onnx has no such input (it has"
                + " [sample, timestep, image_embeds, encoder_hidden_states]); decoder/manifest.json: decoder.onnx has"
                + " input 'timestep' that the manifest does not declare", () -> repository.load(bundle));
    }

    @Test
    void elementTypeMismatch() {
        edit("decoder", m -> ((ObjectNode) m.get("inputs").get(1)).put("type", "int32"));
        assertRefused("decoder/manifest.json: input 'timestep' is int64 in decoder.onnx, manifest says int32",
                () -> repository.load(bundle));
        edit("decoder", m -> ((ObjectNode) m.get("inputs").get(1)).put("type", "long"));
        assertRefusedStartingWith("decoder/manifest.json: field 'inputs[1].type' is 'long', expected one of float32,",
                () -> repository.load(bundle));
    }

    @Test
    void learnedVarianceNeedsTwiceTheChannels() {
        edit("decoder", m -> shape(m, "outputs", 0).set(1, 3));
        assertRefused("decoder/manifest.json: output 'out_sample' has 3 channels, variance 'learned_range' with input"
                + " 'sample' has 3 channels needs 6", () -> repository.load(bundle));
        edit("upsampler_32", m -> diffusion(m).put("variance", "learned_range"));
        assertRefused("upsampler_32/manifest.json: output 'out_sample' has 3 channels, variance 'learned_range' with"
                + " input 'sample' has 6 = 2 x 3 channels needs 6", () -> repository.loadStage(bundle, "upsampler_32"));
    }

    @Test
    void conditioningSizesMustMatchTensors() {
        edit("prior", m -> ((ObjectNode) m.get("conditioning")).put("embedding_dim", 32));
        ModelRepositoryException e = assertThrows(ModelRepositoryException.class, () -> repository.load(bundle));
        assertTrue(e.getMessage().startsWith("prior/manifest.json: proj_embedding [batch,16] has 16 at dimension 1,"
                + " conditioning.embedding_dim is 32"), e.getMessage());
        assertTrue(e.getMessage().contains("normalization has 16 values per statistic, conditioning.embedding_dim is 32"),
                e.getMessage());
    }

    @Test
    void resolutionMustMatchTensorsAndScale() {
        edit("upsampler_32", m -> ((ObjectNode) m.get("resolution")).put("scale", 2));
        assertRefused("upsampler_32/manifest.json: field 'resolution.output' is 32, but input 8 x scale 2 = 16",
                () -> repository.load(bundle));
        edit("decoder", m -> m.remove("resolution"));
        assertRefused("decoder/manifest.json: required field 'resolution.output' is missing (a decoder needs"
                + " resolution output)", () -> repository.loadStage(bundle, "decoder"));
        edit("decoder", m -> m.set("resolution", JSON.createObjectNode().put("output", 64)));
        assertRefusedStartingWith("decoder/manifest.json: sample [batch,3,8,8] has 8 at dimension 2, resolution.output"
                + " is 64", () -> repository.loadStage(bundle, "decoder"));
    }

    @Test
    void everyInputNeedsARole() {
        edit("decoder", m -> ((ObjectNode) m.get("inputs").get(3)).remove("role"));
        assertRefused("decoder/manifest.json: field 'inputs[3].role' is missing for input 'encoder_hidden_states':"
                + " name one of sample, timestep, image_embeds, input_ids, text_embeds, text_hidden, text_mask; if it"
                + " is the text encoder's last_hidden_state its role is 'text_hidden'; in diffusers' UnCLIP decoder UNet"
                + " it is an output of text_proj (UnCLIPTextProjModel), which the engine does not run: export text_proj"
                + " and the UNet as one graph that takes the CLIP embeddings (engine/MANIFEST.md, Exporting a diffusers"
                + " checkpoint)", () -> repository.load(bundle));
    }

    @Test
    void requiredRolesMustBePresent() {
        edit("decoder", m -> ((ObjectNode) m.get("outputs").get(0)).remove("role"));
        assertRefused("decoder/manifest.json: field 'outputs' has no output with role prediction (a decoder needs"
                + " prediction)", () -> repository.load(bundle));
    }

    @Test
    void tokenizerIsRequiredForTextStages() {
        edit("text_encoder", m -> m.remove("tokenizer"));
        assertRefused("text_encoder/manifest.json: required field 'tokenizer' is missing (a text_encoder needs its"
                + " tokenizer.json)", () -> repository.load(bundle));
    }

    @Test
    void brokenTokenizerFileIsNamed() throws IOException {
        Files.writeString(bundle.resolve("captioner/tokenizer.json"), "{\"model\": {\"type\": \"WordLevel\"}}");
        assertRefused("captioner/tokenizer.json: tokenizer.json has an empty vocabulary", () -> repository.load(bundle));
    }

    @Test
    void normalizationFileIsCheckedToo() throws IOException {
        Files.delete(bundle.resolve("prior/embedding_stats.json"));
        assertRefused("prior/manifest.json: file 'embedding_stats.json' named in field 'normalization' does not exist",
                () -> repository.load(bundle));
        Files.writeString(bundle.resolve("prior/embedding_stats.json"), "{\"mean\": [0, 0], \"std\": [1, 0]}");
        assertRefused("prior/embedding_stats.json: field 'std' has 0.0 at index 1 (mean 0.0); std must be positive"
                + " and both finite", () -> repository.load(bundle));
    }

    @Test
    void unsupportedManifestVersion() {
        edit("decoder", m -> m.put("manifest_version", 2));
        assertRefused("decoder/manifest.json: field 'manifest_version' is 2, this engine reads version 1",
                () -> repository.load(bundle));
    }

    @Test
    void bundleStageNamesMustBePlainDirectories() {
        editBundle(b -> ((ArrayNode) b.get("stages")).add("../elsewhere"));
        assertRefused("bundle.json: field 'stages' has '../elsewhere', which is not a plain directory name",
                () -> repository.load(bundle));
    }

    @Test
    void anOverlayBundleTakesTheStagesItLacksFromItsBase() throws IOException {
        Path variant = bundle.resolve("variant");
        Fixtures.copyTree(bundle.resolve("decoder"), variant.resolve("decoder"));
        editJson(variant.resolve("decoder").resolve("manifest.json"), m -> diffusion(m).put("respacing", "trailing2"));
        Files.writeString(variant.resolve("bundle.json"), "{\"name\": \"tiny-variant\", \"version\": \"1\", \"base\": \"..\","
                + " \"stages\": [\"text_encoder\", \"prior\", \"decoder\", \"upsampler_32\"]}");
        try (ModelBundle b = repository.load(variant)) {
            assertEquals("tiny-variant", b.name());
            assertEquals(List.of("text_encoder", "prior", "decoder", "upsampler_32"), List.copyOf(b.stages().keySet()));
            assertEquals(variant.resolve("decoder"), b.stage("decoder").manifest().dir());
            assertEquals("trailing2", b.stage("decoder").manifest().diffusion().orElseThrow().respacing());
            assertEquals(bundle.resolve("prior"), b.stage("prior").manifest().dir());
        }
        try (ModelBundle b = repository.load(bundle)) {
            assertEquals("25", b.stage("decoder").manifest().diffusion().orElseThrow().respacing(), "the base is as it was");
        }
        Files.writeString(variant.resolve("bundle.json"), "{\"name\": \"v\", \"version\": \"1\", \"base\": \"..\","
                + " \"stages\": [\"decoder\", \"upsampler_9\"]}");
        assertRefusedStartingWith("upsampler_9/: stage directory listed in bundle.json is in neither this bundle nor its"
                + " base", () -> repository.load(variant));
        Files.writeString(variant.resolve("bundle.json"), "{\"name\": \"v\", \"version\": \"1\", \"base\": \"/etc\","
                + " \"stages\": [\"decoder\"]}");
        assertRefusedStartingWith("bundle.json: field 'base' is '/etc': give a path relative to this bundle",
                () -> repository.load(variant));
        Files.writeString(variant.resolve("bundle.json"), "{\"name\": \"v\", \"version\": \"1\", \"base\": \"decoder\","
                + " \"stages\": [\"decoder\"]}");
        assertRefusedStartingWith("bundle.json: field 'base' is 'decoder', which is not another bundle directory",
                () -> repository.load(variant));
    }

    // ---- helpers ----

    private static void assertRefused(String message, org.junit.jupiter.api.function.Executable load) {
        ModelRepositoryException e = assertThrows(ModelRepositoryException.class, load);
        assertEquals(message, e.getMessage());
    }

    private static void assertRefusedStartingWith(String prefix, org.junit.jupiter.api.function.Executable load) {
        ModelRepositoryException e = assertThrows(ModelRepositoryException.class, load);
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    }

    private void edit(String stage, Consumer<ObjectNode> change) {
        editJson(bundle.resolve(stage).resolve("manifest.json"), change);
    }

    private void editBundle(Consumer<ObjectNode> change) {
        editJson(bundle.resolve("bundle.json"), change);
    }

    private static void editJson(Path file, Consumer<ObjectNode> change) {
        try {
            ObjectNode root = (ObjectNode) JSON.readTree(file.toFile());
            String before = root.toString();
            change.accept(root);
            assertFalse(before.equals(root.toString()), "the edit changed nothing in " + file);
            JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode diffusion(ObjectNode manifest) {
        return (ObjectNode) manifest.get("diffusion");
    }

    private static ArrayNode shape(ObjectNode manifest, String list, int index) {
        return (ArrayNode) manifest.get(list).get(index).get("shape");
    }
}
