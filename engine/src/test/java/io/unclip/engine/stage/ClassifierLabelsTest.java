package io.unclip.engine.stage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which labels a prompt names for its main object, and the target rows the classifier gets. */
class ClassifierLabelsTest {
    private static final String LABELS = """
            {"heads": [
              {"name": "color", "labels": {"red": ["red"], "green": ["green"], "blue": ["blue"]}},
              {"name": "shape", "labels": {"circle": ["circle"], "square": ["square"]}},
              {"name": "cell", "labels": {"top left": ["at the top left"], "top": ["at the top"],
                                          "left": ["at the left"], "center": ["at the center"]}}]}
            """;

    @TempDir
    Path dir;

    private ClassifierLabels labels() throws IOException {
        Path f = dir.resolve("labels.json");
        Files.writeString(f, LABELS);
        return ClassifierLabels.read(f);
    }

    @Test
    void aDescriptiveCaptionNamesEveryHead() throws IOException {
        ClassifierLabels l = labels();
        assertEquals(Map.of("color", "red", "shape", "circle", "cell", "top left"),
                l.describe("a small red circle at the top left on a white background"));
        assertArrayEquals(new float[] {1, 0, 0, 1, 0, 1, 0, 0, 0},
                l.target("a small red circle at the top left on a white background"));
        assertEquals(9, l.width());
    }

    @Test
    void theFirstObjectIsTheMainOne() throws IOException {
        ClassifierLabels l = labels();
        assertEquals(Map.of("color", "blue", "shape", "square", "cell", "top"),
                l.describe("a small blue square at the top and a large red circle at the left, on a black background"));
    }

    @Test
    void aRelationIsNotACell() throws IOException {
        assertEquals(Map.of("color", "green", "shape", "circle"), labels().describe("a green circle to the left of a"
                + " red square"));
    }

    @Test
    void matchingIsOnWholeWordsAndIgnoresCase() throws IOException {
        ClassifierLabels l = labels();
        assertEquals(Map.of("color", "red", "shape", "square"), l.describe("A RED Square,"));
        assertEquals(Map.of(), l.describe("a reddish circles"));
        assertArrayEquals(new float[9], l.target("nothing here"));
    }

    @Test
    void badFilesAreRefusedWithTheReason() throws IOException {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{\"heads\": [{\"name\": \"color\", \"labels\": {\"red\": []}}]}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClassifierLabels.read(f));
        assertTrue(e.getMessage().contains("'red'"), e.getMessage());
        Files.writeString(f, "{}");
        assertThrows(IllegalArgumentException.class, () -> ClassifierLabels.read(f));
        assertThrows(IllegalArgumentException.class, () -> ClassifierLabels.read(dir.resolve("missing.json")));
    }
}
