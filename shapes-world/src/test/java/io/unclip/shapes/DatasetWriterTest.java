package io.unclip.shapes;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DatasetWriterTest {
    @Test
    void writesIdenticalBytesForAnyThreadCount(@TempDir Path dir) throws Exception {
        List<DatasetWriter.Format> f = List.of(DatasetWriter.Format.NPY, DatasetWriter.Format.PNG);
        new DatasetWriter(dir.resolve("a"), 5, 150, new int[] {32, 64}, f, 1).write(null);
        new DatasetWriter(dir.resolve("b"), 5, 150, new int[] {32, 64}, f, 2).write(null);
        for (String name : new String[] {"images_32.npy", "images_64.npy", "captions.jsonl", "png32/0000149.png"})
            assertArrayEquals(Files.readAllBytes(dir.resolve("a").resolve(name)), Files.readAllBytes(dir.resolve("b").resolve(name)), name);

        byte[] npy = Files.readAllBytes(dir.resolve("a/images_32.npy"));
        int hl = (npy[8] & 0xFF) | (npy[9] & 0xFF) << 8;
        assertEquals(0, (10 + hl) % 64);
        String header = new String(npy, 10, hl, StandardCharsets.US_ASCII);
        assertTrue(header.contains("'shape': (150, 32, 32, 3)"), header);
        assertEquals(10 + hl + 150L * 32 * 32 * 3, npy.length);
        byte[] rec7 = Arrays.copyOfRange(npy, 10 + hl + 7 * 3072, 10 + hl + 8 * 3072);
        assertArrayEquals(Renderer.render(SceneSampler.sample(5, 7), 32).data, rec7);
        assertEquals(Renderer.render(SceneSampler.sample(5, 7), 64), RgbImage.readPng(dir.resolve("a/png64/0000007.png")));

        List<String> lines = Files.readAllLines(dir.resolve("a/captions.jsonl"));
        assertEquals(150, lines.size());
        assertEquals(DatasetWriter.jsonLine(7, SceneSampler.sample(5, 7)), lines.get(7));
        assertTrue(lines.get(7).startsWith("{\"id\":7,\"short\":\"a "));
        assertTrue(Files.readString(dir.resolve("a/dataset.json")).contains("\"seed\": 5"));
    }

    @Test
    void cliWritesADataset(@TempDir Path dir) throws Exception {
        int rc = new CommandLine(new ShapesWorldCli()).execute("--out", dir.toString(), "--count", "20", "--seed", "3",
                "--sizes", "32,128", "--format", "png,npy");
        assertEquals(0, rc);
        assertTrue(Files.exists(dir.resolve("png128/0000019.png")));
        assertTrue(Files.exists(dir.resolve("images_32.npy")));
        assertEquals(20, Files.readAllLines(dir.resolve("captions.jsonl")).size());
        assertNotEquals(0, new CommandLine(new ShapesWorldCli()).execute("--count", "2"));
    }
}
