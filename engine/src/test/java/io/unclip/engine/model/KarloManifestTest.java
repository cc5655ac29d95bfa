package io.unclip.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.unclip.engine.onnx.Fixtures;
import io.unclip.engine.onnx.OrtRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manifest fields a diffusers (Karlo) export needs: unconditional, last_step_onnx,
 * clamp_output, lowres_antialias, pad_token and the role hints for diffusers tensor names, on the
 * Karlo-shaped bundle that engine/tools/export_diffusers_unclip.py wrote.
 */
class KarloManifestTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private Path bundle;
    private OrtRuntime runtime;
    private ModelRepository repository;

    @BeforeEach
    void setUp() {
        bundle = Fixtures.copyTree(Fixtures.karloBundle(), tmp.resolve("karlo"));
        runtime = new OrtRuntime(Fixtures.lightCpu());
        repository = new ModelRepository(runtime);
    }

    @AfterEach
    void tearDown() {
        runtime.close();
    }

    @Test
    void exportedFieldsAreRead() throws IOException {
        StageManifest decoder = repository.readStage(bundle, "decoder");
        UnconditionalInput learned = decoder.unconditionalFor("image_embeds").orElseThrow();
        assertEquals("unconditional_image_embeds.npy", learned.file().getFileName().toString());
        // the values numpy.save wrote, as torch had them (stage-reference/karlo.json)
        JsonNode ref = JSON.readTree(Fixtures.resource("stage-reference/karlo.json").toFile())
                .get("decoder").get("learned_unconditional").get("data");
        assertEquals(16, learned.width());
        for (int i = 0; i < 16; i++) {
            assertEquals((float) ref.get(i).asDouble(), learned.values()[i], "value " + i);
        }
        assertTrue(decoder.clampOutput());
        assertEquals(Optional.empty(), decoder.lastStepOnnx());

        StageManifest superRes = repository.readStage(bundle, "super_res");
        assertEquals("super_res_last.onnx", superRes.lastStepOnnx().orElseThrow().getFileName().toString());
        assertTrue(superRes.clampOutput());
        assertTrue(superRes.lowresAntialias());
        assertEquals(Optional.of("bicubic"), superRes.lowresResize());
        assertEquals(Map.of(), superRes.unconditional());

        assertEquals(Optional.of("<|endoftext|>"), repository.readStage(bundle, "text_encoder").padToken());
        StageManifest prior = repository.readStage(bundle, "prior");
        assertEquals("text_embeds", prior.inputForRole("text_embeds").orElseThrow().role());
        assertEquals("proj_embedding", prior.inputName("text_embeds"));
    }

    @Test
    void theWholeBundleLoadsWithBothSuperResolutionGraphs() {
        try (ModelBundle b = repository.load(bundle)) {
            LoadedStage superRes = b.stage("super_res");
            assertTrue(superRes.lastStepSession().isPresent());
            assertNotSame(superRes.session(), superRes.lastStepSession().get());
            assertEquals("super_res_last.onnx", superRes.lastStepSession().get().file().getFileName().toString());
            assertFalse(b.stage("decoder").lastStepSession().isPresent());
            assertEquals(b.stage("text_encoder").tokenizer().orElseThrow().tokenId("<|endoftext|>").getAsLong(),
                    b.stage("text_encoder").tokenizer().orElseThrow().padId());
        }
    }

    @Test
    void withoutTheFieldsEverythingIsAsBefore() {
        Path tiny = Fixtures.tinyBundle();
        for (String stage : repository.readBundle(tiny).stages()) {
            StageManifest m = repository.readStage(tiny, stage);
            assertEquals(Map.of(), m.unconditional(), stage);
            assertEquals(Optional.empty(), m.lastStepOnnx(), stage);
            assertFalse(m.clampOutput(), stage);
            assertFalse(m.lowresAntialias(), stage);
            assertEquals(Optional.empty(), m.padToken(), stage);
        }
    }

    @Test
    void unconditionalIsChecked() throws IOException {
        edit("text_encoder", m -> m.putObject("unconditional").put("text_embeds", "x.npy"));
        assertRefused("text_encoder/manifest.json: field 'unconditional' is only for prior, decoder and upsampler"
                + " stages, this one is a text_encoder", "text_encoder");
        edit("decoder", m -> m.putObject("unconditional"));
        assertRefused("decoder/manifest.json: field 'unconditional' must name at least one input role, e.g."
                + " {\"image_embeds\": \"unconditional_image_embeds.npy\"}", "decoder");
        edit("decoder", m -> m.putObject("unconditional").put("text_hidden", "unconditional_image_embeds.npy"));
        assertRefused("decoder/manifest.json: field 'unconditional.text_hidden' is not a role with a learned"
                + " unconditional value; a decoder allows image_embeds, text_embeds", "decoder");
        edit("prior", m -> m.putObject("unconditional").put("image_embeds", "x.npy"));
        assertRefused("prior/manifest.json: field 'unconditional.image_embeds' is not a role with a learned"
                + " unconditional value; a prior allows text_embeds", "prior");
        edit("super_res", m -> m.putObject("unconditional").put("image_embeds", "x.npy"));
        assertRefused("super_res/manifest.json: field 'unconditional.image_embeds' is for role image_embeds, but the"
                + " stage declares no input with that role", "super_res");
        edit("decoder", m -> m.putObject("unconditional").put("image_embeds", "missing.npy"));
        assertRefused("decoder/manifest.json: file 'missing.npy' named in field 'unconditional.image_embeds' does"
                + " not exist", "decoder");
        edit("decoder", m -> m.putObject("unconditional").put("image_embeds", "../prior/embedding_stats.json"));
        assertRefused("decoder/manifest.json: field 'unconditional.image_embeds' names"
                + " '../prior/embedding_stats.json', which is outside the stage directory", "decoder");
    }

    @Test
    void unconditionalFilesAreChecked() throws IOException {
        Path npy = bundle.resolve("decoder/unconditional_image_embeds.npy");
        Files.writeString(npy, "not numpy");
        assertRefused("decoder/unconditional_image_embeds.npy: is not a .npy file (no \\x93NUMPY magic string)",
                "decoder");
        NpyFiles.float32(npy, "(15,)", new float[15]);
        assertRefused("decoder/unconditional_image_embeds.npy: has shape [15], input 'image_embeddings'"
                + " [batch,16] takes rows of 16 values", "decoder");
        NpyFiles.float32(npy, "(2, 16)", new float[32]);
        assertRefused("decoder/unconditional_image_embeds.npy: has shape [2, 16], expected one row of input"
                + " 'image_embeddings', [E] or [1, E]", "decoder");
        NpyFiles.float32(npy, "(16,)", new float[12]);
        assertRefused("decoder/unconditional_image_embeds.npy: has 48 data bytes, shape [16] of <f4 needs 64",
                "decoder");
        NpyFiles.write(npy, "{'descr': '<f2', 'fortran_order': False, 'shape': (16,), }", new byte[32]);
        assertRefused("decoder/unconditional_image_embeds.npy: holds '<f2' elements, expected little-endian float32"
                + " ('<f4') or float64 ('<f8')", "decoder");
        NpyFiles.write(npy, "{'descr': '>f4', 'fortran_order': False, 'shape': (16,), }", new byte[64]);
        assertRefused("decoder/unconditional_image_embeds.npy: holds '>f4' elements, expected little-endian float32"
                + " ('<f4') or float64 ('<f8')", "decoder");
        NpyFiles.write(npy, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 16), }", new byte[64]);
        assertRefused("decoder/unconditional_image_embeds.npy: is in Fortran order, expected C order"
                + " (numpy.ascontiguousarray)", "decoder");
        float[] bad = new float[16];
        bad[3] = Float.NaN;
        NpyFiles.float32(npy, "(1, 16)", bad);
        assertRefused("decoder/unconditional_image_embeds.npy: has NaN at index 3; every value must be finite",
                "decoder");
        float[] good = new float[16];
        good[5] = 0.5f;
        NpyFiles.float32(npy, "(1, 16)", good);
        assertArrayEquals(good, repository.readStage(bundle, "decoder").unconditionalFor("image_embeds")
                .orElseThrow().values());
    }

    @Test
    void lastStepOnnxIsChecked() throws IOException {
        edit("decoder", m -> m.put("last_step_onnx", "decoder.onnx"));
        assertRefused("decoder/manifest.json: field 'last_step_onnx' is only for upsampler stages, this one is a"
                + " decoder", "decoder");
        edit("super_res", m -> m.put("last_step_onnx", "super_res_first.onnx"));
        assertRefused("super_res/manifest.json: field 'last_step_onnx' names the same file as 'onnx'; leave it out"
                + " to run one graph for every step", "super_res");
        edit("super_res", m -> m.put("last_step_onnx", "super_res_final.onnx"));
        assertRefused("super_res/manifest.json: file 'super_res_final.onnx' named in field 'last_step_onnx' does"
                + " not exist", "super_res");
        // a last-step graph with another contract is refused when the stage loads
        Files.copy(bundle.resolve("decoder/decoder.onnx"), bundle.resolve("super_res/other.onnx"));
        edit("super_res", m -> m.put("last_step_onnx", "other.onnx"));
        ModelRepositoryException e = assertThrows(ModelRepositoryException.class,
                () -> repository.loadStage(bundle, "super_res"));
        assertTrue(e.getMessage().startsWith("super_res/manifest.json: input 'sample' has shape [batch,3,8,8] in"
                + " other.onnx, manifest says [batch,6,32,32]"), e.getMessage());
    }

    @Test
    void flagsAreChecked() throws IOException {
        edit("prior", m -> m.put("clamp_output", true));
        assertRefused("prior/manifest.json: field 'clamp_output' is only for decoder and upsampler stages, this one"
                + " is a prior", "prior");
        edit("decoder", m -> m.put("clamp_output", "yes"));
        assertRefused("decoder/manifest.json: field 'clamp_output' must be true or false, found string \"yes\"",
                "decoder");
        edit("decoder", m -> m.put("clamp_output", true).put("lowres_antialias", true));
        assertRefused("decoder/manifest.json: field 'lowres_antialias' is only for upsampler stages, this one is a"
                + " decoder", "decoder");
        edit("super_res", m -> m.put("lowres_resize", "nearest"));
        assertRefused("super_res/manifest.json: field 'lowres_antialias' applies to lowres_resize bilinear or"
                + " bicubic, this one is nearest", "super_res");
        edit("super_res", m -> m.put("lowres_antialias", false));
        assertFalse(repository.readStage(bundle, "super_res").lowresAntialias());
        edit("prior", m -> m.without("clamp_output"));
        edit("prior", m -> m.put("pad_token", "<|endoftext|>"));
        assertRefused("prior/manifest.json: field 'pad_token' is only for stages with a tokenizer (text_encoder,"
                + " captioner), this one is a prior", "prior");
    }

    @Test
    void aPadTokenOutsideTheVocabularyIsRefusedOnLoad() throws IOException {
        edit("text_encoder", m -> m.put("pad_token", "<|pad|>"));
        ModelRepositoryException e = assertThrows(ModelRepositoryException.class,
                () -> repository.loadStage(bundle, "text_encoder"));
        assertEquals("text_encoder/tokenizer.json: has no token '<|pad|>', which the manifest's pad_token names",
                e.getMessage());
        edit("text_encoder", m -> m.remove("pad_token"));
        e = assertThrows(ModelRepositoryException.class, () -> repository.loadStage(bundle, "text_encoder"));
        assertTrue(e.getMessage().startsWith("text_encoder/tokenizer.json: no padding token: add a \"padding\""),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("or name one in the manifest's pad_token (CLIP pads with <|endoftext|>)"),
                e.getMessage());
    }

    @Test
    void missingRolesOfDiffusersNamesSayWhichRole() throws IOException {
        edit("prior", m -> ((ObjectNode) m.get("inputs").get(2)).remove("role"));
        assertRefused("prior/manifest.json: field 'inputs[2].role' is missing for input 'proj_embedding': name one"
                + " of sample, timestep, text_embeds, text_hidden, text_mask; in diffusers' PriorTransformer"
                + " 'proj_embedding' is role 'text_embeds': add \"role\": \"text_embeds\"", "prior");
        edit("decoder", m -> ((ArrayNode) m.get("inputs")).addObject().put("name", "class_labels")
                .put("type", "float32").putArray("shape").add("batch").add(32));
        assertRefused("decoder/manifest.json: field 'inputs[6].role' is missing for input 'class_labels': name one"
                + " of sample, timestep, image_embeds, input_ids, text_embeds, text_hidden, text_mask; in diffusers'"
                + " UnCLIP decoder UNet 'class_labels' is an output of text_proj (UnCLIPTextProjModel), which the"
                + " engine does not run: export text_proj and the UNet as one graph that takes the CLIP embeddings"
                + " (engine/MANIFEST.md, Exporting a diffusers checkpoint)", "decoder");
        edit("super_res", m -> ((ObjectNode) m.get("outputs").get(0)).remove("role"));
        assertRefused("super_res/manifest.json: field 'outputs' has no output with role prediction (an upsampler"
                + " needs prediction); in diffusers' UNet2DModel (super_res_first / super_res_last) 'noise_pred' is"
                + " role 'prediction': add \"role\": \"prediction\"", "super_res");
    }

    private void assertRefused(String message, String stage) {
        ModelRepositoryException e = assertThrows(ModelRepositoryException.class,
                () -> repository.readStage(bundle, stage));
        assertEquals(message, e.getMessage());
    }

    private void edit(String stage, Consumer<ObjectNode> change) throws IOException {
        Path file = bundle.resolve(stage).resolve("manifest.json");
        ObjectNode m = (ObjectNode) JSON.readTree(file.toFile());
        change.accept(m);
        JSON.writeValue(file.toFile(), m);
    }
}
