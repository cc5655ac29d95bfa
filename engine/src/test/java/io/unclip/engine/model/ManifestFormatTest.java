package io.unclip.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.onnx.Fixtures;
import io.unclip.engine.onnx.OrtRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestFormatTest {

    @Test
    void respacingIsTheOneGrammarOfRequestsToo() {
        for (String ok : new String[] {"25", "1000", "10,15,20", "ddim25", "ddim27", "ddim1000", "trailing4",
                "leading25", "linspace10"}) {
            assertNull(ManifestReader.respacingProblem(ok, 1000), ok);
        }
        for (String bad : new String[] {"ddim1", "1001", "5,0", "ddim99999999999999999999", "25 steps", "",
                "trailing0", "trailing1001"}) {
            String problem = ManifestReader.respacingProblem(bad, 1000);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> io.unclip.engine.diffusion.Respacing.parse(bad, 1000));
            assertEquals(e.getMessage(), problem, bad);
        }
    }

    /** The example in engine/MANIFEST.md is a valid manifest. */
    @Test
    void documentedExampleIsValid(@TempDir Path tmp) throws IOException {
        String doc = Files.readString(Path.of("MANIFEST.md"));
        Matcher m = Pattern.compile("## manifest.json\\s+```json\\n(.*?)```", Pattern.DOTALL).matcher(doc);
        assertTrue(m.find(), "example manifest block in MANIFEST.md");
        Path stage = Files.createDirectories(tmp.resolve("decoder"));
        Files.writeString(stage.resolve("manifest.json"), m.group(1));
        Files.write(stage.resolve("decoder.onnx"), new byte[0]); // reading a manifest does not open the model

        try (OrtRuntime runtime = new OrtRuntime(Fixtures.lightCpu())) {
            StageManifest manifest = new ModelRepository(runtime).readStage(tmp, "decoder");
            assertEquals(StageKind.DECODER, manifest.kind());
            assertEquals("encoder_hidden_states", manifest.inputName("text_hidden"));
            assertEquals(64, manifest.resolution().orElseThrow().output().getAsInt());
        }
    }
}
