package io.unclip.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
    void respacingFollowsImprovedDiffusion() {
        assertNull(ManifestReader.respacingProblem("25", 1000));
        assertNull(ManifestReader.respacingProblem("1000", 1000));
        assertNull(ManifestReader.respacingProblem("10,15,20", 1000));
        assertNull(ManifestReader.respacingProblem("ddim25", 1000));
        assertNull(ManifestReader.respacingProblem("ddim27", 1000)); // stride 38
        assertNull(ManifestReader.respacingProblem("ddim1000", 1000));
        assertEquals("no integer stride gives exactly 1 of 1000 steps", ManifestReader.respacingProblem("ddim1", 1000));
        assertEquals("section 1 asks for 1001 steps, it has 1000 timesteps (at least 1 step each)",
                ManifestReader.respacingProblem("1001", 1000));
        assertEquals("section 2 asks for 0 steps, it has 500 timesteps (at least 1 step each)",
                ManifestReader.respacingProblem("5,0", 1000));
        assertEquals("ddim step count must be between 1 and train_timesteps (1000)",
                ManifestReader.respacingProblem("ddim99999999999999999999", 1000));
        assertTrue(ManifestReader.respacingProblem("25 steps", 1000).startsWith("expected a step count"));
        assertTrue(ManifestReader.respacingProblem("", 1000).startsWith("expected a step count"));
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
