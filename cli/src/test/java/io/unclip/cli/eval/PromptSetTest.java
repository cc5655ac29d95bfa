package io.unclip.cli.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.shapes.ObjectSpec;
import io.unclip.shapes.Relation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default prompt set and prompts files. */
class PromptSetTest {
    @TempDir
    Path tmp;

    @Test
    void theDefaultSetIsFixedAndBalanced() {
        List<EvalPrompt> set = PromptSet.generate(PromptSet.DEFAULT_SEED, PromptSet.DEFAULT_COUNT);
        assertEquals(set, PromptSet.generate(PromptSet.DEFAULT_SEED, PromptSet.DEFAULT_COUNT));
        assertEquals(80, set.size());
        List<EvalPrompt> singles = set.stream().filter(p -> p.spec().objects().size() == 1).toList();
        List<EvalPrompt> twos = set.stream().filter(p -> p.spec().objects().size() == 2).toList();
        assertEquals(48, singles.size());
        assertEquals(32, twos.size());
        Map<Object, Integer> counts = new HashMap<>();
        for (EvalPrompt p : singles) {
            ObjectSpec o = p.spec().objects().get(0);
            // descriptive: every attribute stated
            assertTrue(o.color() != null && o.size() != null && o.cell() != null && p.spec().background() != null,
                    p.prompt());
            for (Object k : List.of(o.color(), o.shape(), o.size(), p.spec().background())) {
                counts.merge(k, 1, Integer::sum);
            }
        }
        assertEquals(9, singles.stream().map(p -> p.spec().objects().get(0).cell()).distinct().count(), "every cell");
        counts.forEach((k, n) -> {
            int expected = switch (k.getClass().getSimpleName()) {
                case "ObjectColor" -> 6;
                case "Shape" -> 12;
                case "Size" -> 24;
                default -> 16; // Background
            };
            assertEquals(expected, n, "single-object prompts with " + k);
        });
        Map<Relation, Integer> relations = new HashMap<>();
        for (EvalPrompt p : twos) {
            assertTrue(p.spec().relation() != null, p.prompt());
            relations.merge(p.spec().relation(), 1, Integer::sum);
        }
        assertEquals(Map.of(Relation.ABOVE, 8, Relation.BELOW, 8, Relation.LEFT_OF, 8, Relation.RIGHT_OF, 8),
                relations);
        Set<String> texts = new HashSet<>();
        Set<String> ids = new HashSet<>();
        Set<Long> seeds = new HashSet<>();
        for (EvalPrompt p : set) {
            assertTrue(texts.add(p.prompt()), "repeated " + p.prompt());
            assertTrue(ids.add(p.id()));
            assertTrue(seeds.add(p.seed()));
            assertTrue(p.seed() >= 0 && p.seed() < (1L << 53));
        }
        assertEquals("single-001", set.get(0).id());
        assertEquals("two-032", set.get(79).id());
    }

    @Test
    void otherSeedsAndCounts() {
        assertNotEquals(PromptSet.generate(1, 10), PromptSet.generate(2, 10));
        for (int n = 1; n <= 12; n++) {
            List<EvalPrompt> set = PromptSet.generate(n, n);
            assertEquals(n, set.size());
            assertEquals(Math.round(n * 0.6), set.stream().filter(p -> p.spec().objects().size() == 1).count());
        }
        assertThrows(IllegalArgumentException.class, () -> PromptSet.generate(1, 0));
    }

    @Test
    void writtenSetsReadBack() throws IOException {
        List<EvalPrompt> set = PromptSet.generate(7, 9);
        Path f = tmp.resolve("p.jsonl");
        PromptSet.write(f, set);
        assertEquals(set, PromptSet.read(f, 12345));
    }

    @Test
    void filesGiveIdsAndSeedsByDefault() throws IOException {
        Path f = tmp.resolve("p.jsonl");
        Files.writeString(f, "{\"prompt\": \"a red circle\"}\n\n{\"id\": \"x\", \"prompt\": \"A Blue  Square\", \"seed\":"
                + " \"18446744073709551615\"}\n");
        List<EvalPrompt> set = PromptSet.read(f, 5);
        assertEquals("line-1", set.get(0).id());
        assertEquals(PromptSet.promptSeed(5, 0), set.get(0).seed());
        assertEquals("x", set.get(1).id());
        assertEquals(-1L, set.get(1).seed());
        assertEquals("single_object", set.get(1).group());
    }

    @Test
    void badLinesNameTheLine() {
        assertBad("{\"prompt\": \"a red circle\"}\nnot json\n", "line 2: not valid JSON");
        assertBad("{\"id\": \"a\"}\n", "line 1: \"prompt\" is missing");
        assertBad("{\"prompt\": \"a red banana\"}\n", "line 1: \"prompt\" 'a red banana' is not a Shapes-World prompt:"
                + " word 'banana'");
        assertBad("{\"prompt\": \"a red circle\", \"id\": \"a\"}\n{\"prompt\": \"a red circle\", \"id\": \"a\"}\n",
                "line 2: \"id\" 'a' is used by an earlier line");
        assertBad("{\"prompt\": \"a red circle\", \"id\": \"../x\"}\n", "line 1: \"id\" '../x' must be");
        assertBad("{\"prompt\": \"a red circle\", \"seed\": -1}\n",
                "line 1: \"seed\": -1 is not a seed (an integer from 0 to 18446744073709551615)");
        assertBad("{\"prompt\": \"a red circle\", \"seed\": \"+5\"}\n", "line 1: \"seed\": '+5' is not a seed");
        assertBad("\n\n", "no prompts in the file");
    }

    private void assertBad(String content, String message) {
        Path f = tmp.resolve("bad.jsonl");
        PromptSet.PromptsFileException e = assertThrows(PromptSet.PromptsFileException.class, () -> {
            Files.writeString(f, content);
            PromptSet.read(f, 1);
        });
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }
}
