package io.unclip.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.unclip.engine.onnx.Fixtures;
import io.unclip.engine.onnx.OrtRuntime;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image_encoder kind and the lowres_resize and caption_styles fields. */
class ManifestExtensionsTest {
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

    @Test
    void fieldsAreRead() {
        StageManifest up = repository.readStage(bundle, "upsampler_32");
        assertEquals(Optional.of("bilinear"), up.lowresResize());
        StageManifest cap = repository.readStage(bundle, "captioner");
        assertEquals(List.of("short", "descriptive"), List.copyOf(cap.captionStyles().keySet()));
        assertEquals("[DESC]", cap.captionStyles().get("descriptive"));
        StageManifest enc = repository.readStage(bundle, "image_encoder");
        assertEquals(StageKind.IMAGE_ENCODER, enc.kind());
        assertEquals(32, enc.resolution().orElseThrow().input().getAsInt());
        assertEquals(Optional.empty(), enc.lowresResize());
        assertEquals(Map.of(), enc.captionStyles());
    }

    @Test
    void lowresResizeDefaultsToBilinearAndIsChecked() throws IOException {
        edit("upsampler_128", m -> m.remove("lowres_resize"));
        assertEquals(Optional.of("bilinear"), repository.readStage(bundle, "upsampler_128").lowresResize());
        edit("upsampler_128", m -> m.put("lowres_resize", "lanczos"));
        assertRefused("upsampler_128/manifest.json: field 'lowres_resize' is 'lanczos', expected one of bilinear,"
                + " bicubic, nearest", "upsampler_128");
        edit("decoder", m -> m.put("lowres_resize", "bilinear"));
        assertRefused("decoder/manifest.json: field 'lowres_resize' is only for upsampler stages, this one is a"
                + " decoder", "decoder");
    }

    @Test
    void captionStylesMustBeTokensOfTheTokenizer() throws IOException {
        edit("captioner", m -> ((ObjectNode) m.get("caption_styles")).put("poetic", "[POEM]"));
        ModelRepositoryException e = assertThrows(ModelRepositoryException.class,
                () -> repository.loadStage(bundle, "captioner"));
        assertEquals("captioner/manifest.json: field 'caption_styles.poetic' names token '[POEM]', which"
                + " tokenizer.json does not have", e.getMessage());
        edit("captioner", m -> m.putObject("caption_styles"));
        assertRefused("captioner/manifest.json: field 'caption_styles' must name at least one style, e.g."
                + " {\"short\": \"[SHORT]\"}", "captioner");
        edit("prior", m -> m.putObject("caption_styles").put("short", "[SHORT]"));
        assertRefused("prior/manifest.json: field 'caption_styles' is only for captioner stages, this one is a prior",
                "prior");
    }

    @Test
    void imageEncoderNeedsItsInputResolution() throws IOException {
        edit("image_encoder", m -> m.remove("resolution"));
        assertRefused("image_encoder/manifest.json: required field 'resolution.input' is missing (an image_encoder"
                + " needs resolution input)", "image_encoder");
    }

    @Test
    void imageEncoderResolutionIsCheckedAgainstItsImageInput() throws IOException {
        edit("image_encoder", m -> ((ObjectNode) m.get("resolution")).put("input", 64));
        ModelRepositoryException e = assertThrows(ModelRepositoryException.class,
                () -> repository.readStage(bundle, "image_encoder"));
        assertEquals("image_encoder/manifest.json: image [batch,3,32,32] has 32 at dimension 2, resolution.input is"
                + " 64; image_encoder/manifest.json: image [batch,3,32,32] has 32 at dimension 3, resolution.input is 64",
                e.getMessage());
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
