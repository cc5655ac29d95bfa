package io.unclip.shapes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

class ShapesWorldCliTest {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = ShapesWorldCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return new Run(cli.execute(args), out.toString(), err.toString());
    }

    @Test
    void judgesOnePngFileAgainstItsCaption() throws Exception {
        Scene scene = SceneSampler.sample(5, 0);
        Path png = dir.resolve("scene.png");
        Renderer.render(scene, 128).writePng(png);
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, Captions.descriptive(scene) + "\n");

        Run r = run("judge", "--images", png.toString(), "--prompts", prompts.toString());

        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("images 1, all attributes correct 1.0000"), r.out());
    }

    @Test
    void anUnreadableImageFileIsOneLineAndExitOne() throws Exception {
        Path bad = dir.resolve("images.bin");
        Files.writeString(bad, "not an array");
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "a red circle\n");

        Run r = run("judge", "--images", bad.toString(), "--prompts", prompts.toString());

        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("shapes-world: "), r.err());
        assertTrue(r.err().contains("not a .npy file"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void anOutputPathThatIsAFileSaysSoInOneLine() throws Exception {
        Path file = dir.resolve("taken");
        Files.writeString(file, "x");

        Run r = run("--out", file.toString(), "--count", "2", "--seed", "1", "--sizes", "32");

        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("shapes-world: " + file), r.err());
        assertTrue(r.err().contains("exists and is not a directory"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
    }
}
