package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unclip.engine.image.PngCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code unclip eval} end to end on the tiny bundle (random weights: the numbers are meaningless, the plumbing is
 * under test). Its tokenizers know every Shapes-World word, and the longest prompt form (two descriptive objects,
 * 22 words and a comma) fits its 24-token context.
 */
class EvalCommandTest {
    private static final String BUNDLE = System.getProperty("unclip.tiny.bundle",
            "../engine/src/test/resources/bundles/tiny");
    private static final String[] FAST = {"--models", BUNDLE, "--prior-steps", "2", "--decoder-steps", "2",
        "--sr-steps", "2", "--threads", "1"};
    private static final List<String> METRICS = List.of("prompt_following", "clip_score", "fid", "inception_score",
            "captioner");

    @TempDir
    Path tmp;

    private static UnclipCommandTest.Result eval(String... more) {
        return UnclipCommandTest.run(UnclipCommandTest.args(FAST, more));
    }

    @Test
    void writesEveryMetricWithConsistentCounts() throws IOException {
        Path prompts = tmp.resolve("prompts.jsonl");
        Files.writeString(prompts, String.join("\n",
                "{\"id\": \"one\", \"prompt\": \"a small red circle at the top left on a white background\", \"seed\": 1}",
                "{\"id\": \"rel\", \"prompt\": \"a blue square above a yellow triangle\"}",
                "{\"prompt\": \"a large green diamond at the top left and a small pink circle at the bottom right,"
                        + " on a black background\", \"seed\": 3}", ""));
        Path out = tmp.resolve("out");
        UnclipCommandTest.Result r = eval("eval", "--prompts", prompts.toString(), "-n", "2", "--size", "32",
                "--out-dir", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("FID (bundle image-encoder features"), r.out());
        assertTrue(r.out().contains("not OpenAI CLIP"), r.out());

        JsonNode doc = new ObjectMapper().readTree(out.resolve("eval.json").toFile());
        for (String m : METRICS) {
            assertTrue(doc.has(m), m);
        }
        int images = 3 * 2;
        assertEquals(images, doc.at("/run/images").asInt());
        assertEquals(2, doc.at("/run/num_images").asInt());
        assertEquals(32, doc.at("/run/size").asInt());
        assertEquals(2, doc.at("/run/sampling/stages/decoder/steps").asInt());

        JsonNode pf = doc.get("prompt_following");
        assertEquals(2, pf.at("/single_object/images").asInt());
        assertEquals(4, pf.at("/two_object/images").asInt());
        assertEquals(images, pf.at("/all/images").asInt());
        assertEquals(images, pf.at("/judge_on_references/images").asInt());
        // the judge is right on every rendered reference (at 32x32 it may miss a small triangle's shape)
        assertTrue(pf.at("/judge_on_references/all_correct/correct").asInt() >= images - 1, pf.toString());
        // every stated attribute is counted once per image of the prompts stating it
        assertEquals(2, pf.at("/single_object/attributes/background/total").asInt());
        assertEquals(2, pf.at("/single_object/attributes/cells/total").asInt());
        assertEquals(4, pf.at("/two_object/attributes/binding/total").asInt());
        assertEquals(2, pf.at("/two_object/attributes/relation/total").asInt());
        assertEquals(2, pf.at("/two_object/attributes/cells/total").asInt());
        assertEquals(images, pf.at("/all/attributes/count/total").asInt());
        assertEquals(2, pf.at("/all/attributes/relation/total").asInt());
        assertFalse(pf.get("single_object").get("attributes").has("relation"));
        checkFractions(pf);

        JsonNode clip = doc.get("clip_score");
        double c = clip.get("value").asDouble();
        assertTrue(c >= 0 && c <= 100, clip.toString());
        assertTrue(clip.get("model").asText().contains("not OpenAI CLIP"));
        JsonNode fid = doc.get("fid");
        assertEquals("FID (bundle image-encoder features)", fid.get("name").asText());
        assertTrue(fid.get("value").asDouble() >= 0, fid.toString());
        assertEquals(images, fid.get("generated").asInt());
        assertEquals(images, fid.get("reference").asInt());
        JsonNode is = doc.get("inception_score");
        assertTrue(is.get("value").asDouble() >= 1 && is.get("value").asDouble() <= 33, is.toString());
        assertTrue(is.get("reference_value").isNumber());
        JsonNode cap = doc.get("captioner");
        assertEquals("descriptive", cap.get("style").asText());
        assertEquals(images, cap.at("/generated/parsed/total").asInt());
        assertEquals(images, cap.at("/reference/all/images").asInt());
        assertEquals(images, cap.at("/generated/all/attributes/count/total").asInt());
        checkFractions(cap);

        JsonNode per = doc.get("images");
        assertEquals(images, per.size());
        int allCorrect = 0;
        for (JsonNode img : per) {
            assertTrue(img.get("caption").isTextual());
            Path png = tmp.getRoot().resolve(img.get("file").asText());
            Path file = Files.exists(png) ? png : Path.of(img.get("file").asText());
            assertTrue(Files.exists(file), img.get("file").asText());
            allCorrect += img.get("all_correct").asBoolean() ? 1 : 0;
        }
        assertEquals(pf.at("/all/all_correct/correct").asInt(), allCorrect);

        for (String id : List.of("one", "rel", "line-3")) {
            for (int i = 0; i < 2; i++) {
                Path png = out.resolve(id + "-" + i + ".png");
                assertEquals(32, PngCodec.withDefaultLimits().read(png).width());
                assertTrue(Files.exists(out.resolve("references").resolve(id + "-" + i + ".png")));
            }
        }
        // the set as run, with every seed filled in: running it again gives the same report
        List<String> written = Files.readAllLines(out.resolve("prompts.jsonl"));
        assertEquals(3, written.size());
        assertTrue(written.get(1).contains("\"seed\":"), written.get(1));
        Path again = tmp.resolve("again");
        UnclipCommandTest.Result r2 = eval("eval", "--prompts", out.resolve("prompts.jsonl").toString(), "-n", "2",
                "--size", "32", "--out-dir", again.toString());
        assertEquals(0, r2.code(), r2.err());
        JsonNode doc2 = new ObjectMapper().readTree(again.resolve("eval.json").toFile());
        for (String m : METRICS) {
            assertEquals(doc.get(m), doc2.get(m), m);
        }
    }

    /** correct <= total and accuracy = correct / total everywhere below {@code node}. */
    private static void checkFractions(JsonNode node) {
        if (node.has("correct") && node.has("total")) {
            int c = node.get("correct").asInt();
            int t = node.get("total").asInt();
            assertTrue(c >= 0 && c <= t, node.toString());
            if (t > 0) {
                assertEquals((double) c / t, node.get("accuracy").asDouble(), 1e-12);
            }
            return;
        }
        for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
            checkFractions(it.next());
        }
    }

    @Test
    void generatedSetWithJsonEvents() throws IOException {
        Path out = tmp.resolve("gen");
        Path report = tmp.resolve("report/r.json");
        UnclipCommandTest.Result r = eval("eval", "--count", "2", "--seed", "9", "-n", "1", "--size", "32", "--out-dir",
                out.toString(), "--json-out", report.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        ObjectMapper json = new ObjectMapper();
        List<String> events = new ArrayList<>();
        JsonNode summary = null;
        for (String line : r.out().split("\n")) {
            JsonNode e = json.readTree(line); // only JSON on stdout
            events.add(e.get("event").asText());
            if ("eval".equals(e.get("event").asText())) {
                summary = e;
            }
        }
        assertEquals("eval_started", events.get(0));
        assertEquals(2, events.stream().filter("eval_prompt"::equals).count());
        assertTrue(events.contains("stage_finished"));
        assertEquals("done", events.get(events.size() - 1));
        assertNotNull(summary);
        assertTrue(summary.has("fid") && summary.has("clip_score") && !summary.has("images"), summary.toString());
        assertTrue(Files.exists(report));
        assertFalse(Files.exists(out.resolve("eval.json")));
        List<String> prompts = Files.readAllLines(out.resolve("prompts.jsonl"));
        assertEquals(2, prompts.size());
        assertTrue(prompts.get(0).contains("\"id\":\"single-001\""), prompts.get(0));
        JsonNode doc = json.readTree(report.toFile());
        assertEquals("9", doc.at("/run/prompt_set/seed").asText());
        assertEquals(2, doc.at("/prompt_following/all/images").asInt());
    }

    // ---- bad input: one line on stderr, exit 2, before any model runs ----

    private void assertBadInput(String expected, String... args) {
        UnclipCommandTest.Result r = eval(args);
        assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("unclip: ") && r.err().contains(expected), r.err());
    }

    @Test
    void badPromptsFiles() throws IOException {
        Path out = tmp.resolve("o");
        Path notJson = tmp.resolve("bad.jsonl");
        Files.writeString(notJson, "{\"prompt\": \"a red circle\"}\n{oops\n");
        assertBadInput("prompts file " + notJson + ": line 2: not valid JSON", "eval", "--prompts",
                notJson.toString(), "--out-dir", out.toString());
        Path unknown = tmp.resolve("unknown.jsonl");
        Files.writeString(unknown, "{\"prompt\": \"a red banana\"}\n");
        assertBadInput("line 1: \"prompt\" 'a red banana' is not a Shapes-World prompt: word 'banana'", "eval",
                "--prompts", unknown.toString(), "--out-dir", out.toString());
        Path impossible = tmp.resolve("impossible.jsonl");
        Files.writeString(impossible, "{\"id\": \"p\", \"prompt\": \"a red circle at the center and a blue square at"
                + " the center\"}\n");
        assertBadInput("prompt p 'a red circle at the center and a blue square at the center': no Shapes-World scene"
                + " satisfies it", "eval", "--prompts", impossible.toString(), "--out-dir", out.toString());
        assertBadInput("cannot read prompts file", "eval", "--prompts", tmp.resolve("missing.jsonl").toString());
        assertFalse(Files.exists(out), "nothing written on bad input");
    }

    @Test
    void badOptions() {
        assertBadInput("--prompts FILE.jsonl or --count N, not both", "eval", "--prompts", "x.jsonl", "--count", "3");
        assertBadInput("--count: must be between 1 and", "eval", "--count", "0");
        UnclipCommandTest.Result seed = eval("eval", "--seed", "x"); // picocli's usage error (see SeedOptionTest)
        assertEquals(ExitCodes.BAD_INPUT, seed.code(), seed.err());
        assertTrue(seed.err().startsWith("Invalid value for option '--seed': 'x' is not a seed"), seed.err());
        assertBadInput("-n: must be between 1 and 8", "eval", "--count", "1", "-n", "9", "--out-dir",
                tmp.resolve("o").toString());
        assertBadInput("--size 64 is not a size this bundle makes", "eval", "--count", "1", "--size", "64",
                "--out-dir", tmp.resolve("o").toString());
        assertBadInput("--caption-style: 'poetic' is not a style", "eval", "--count", "1", "--caption-style",
                "poetic", "--out-dir", tmp.resolve("o").toString());
    }
}
