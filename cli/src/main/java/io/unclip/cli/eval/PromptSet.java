package io.unclip.cli.eval;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.unclip.cli.UnsignedSeed;
import io.unclip.service.validate.Checks;
import io.unclip.shapes.CaptionParser;
import io.unclip.shapes.Captions;
import io.unclip.shapes.Relation;
import io.unclip.shapes.Scene;
import io.unclip.shapes.SceneObject;
import io.unclip.shapes.SceneSampler;
import io.unclip.shapes.SplitMix64;

/**
 * The evaluation's prompts: the fixed default set, or a JSONL file.
 *
 * <p><b>The default set</b> ({@link #generate}): scenes of a dedicated dataset seed ({@link #DEFAULT_SEED}, not the
 * training data's seeds 1 and 2), drawn with {@link SceneSampler} in index order and accepted under per-attribute
 * quotas, so that the set is balanced by construction instead of inheriting the sampler's chance frequencies:
 * <ul>
 *   <li>60% single-object prompts (48 of the default 80), descriptive captions
 *       ({@code a small red circle at the top left on a white background}: colour, shape, size, cell, background,
 *       count). Quotas: each colour at most ceil(n/8) times, each shape ceil(n/4), size ceil(n/2), background
 *       ceil(n/3), cell ceil(n/9).</li>
 *   <li>40% two-object prompts (32 of 80), relational captions ({@code a red circle above a blue square}: colours,
 *       shapes, colour-shape binding, relation, count). Quotas: each relation at most ceil(n/4) times, each colour
 *       ceil(2n/8) + 1 and each shape ceil(2n/4) + 1 over both objects (one spare, as the last pairs could
 *       otherwise be left needing two objects of the same colour and shape, which the world forbids).</li>
 * </ul>
 * The quotas can reach a dead end: the last prompts may need a combination whose every text is taken. When no scene
 * of a kind has been accepted in 20000 draws, that kind's soft quotas (cells; the two-object colours and shapes)
 * are loosened by one, so the set always completes and stays deterministic; the other quotas stay exact.
 * No prompt text repeats. Prompt i's generation seed is {@code mix64(setSeed + 1 + i) >>> 11} (SplitMix64's
 * finaliser; 53 bits so that every JSON reader keeps it exact).
 */
public final class PromptSet {
    /** The default prompt set's scene seed (0xE7A1). */
    public static final long DEFAULT_SEED = 0xE7A1L;
    /** Prompts in the default set. */
    public static final int DEFAULT_COUNT = 80;
    /** Largest --count. */
    public static final int MAX_COUNT = 10_000;

    private static final int MAX_SCENES = 5_000_000;
    /** Scenes of a kind rejected in a row before that kind's quotas are loosened by one (a dead end). */
    private static final int STUCK = 20_000;

    private PromptSet() {
    }

    /** A bad prompts file: the message names the line. */
    public static final class PromptsFileException extends RuntimeException {
        public PromptsFileException(String message) {
            super(message);
        }
    }

    /** The generation seed of prompt {@code index} (or line {@code index}) of a set seeded with {@code setSeed}. */
    public static long promptSeed(long setSeed, int index) {
        return SplitMix64.mix64(setSeed + 1 + index) >>> 11;
    }

    /** The balanced set of {@code count} prompts of scene seed {@code seed} (see the class comment). */
    public static List<EvalPrompt> generate(long seed, int count) {
        if (count < 1 || count > MAX_COUNT) {
            throw new IllegalArgumentException("count must be between 1 and " + MAX_COUNT + ", got " + count);
        }
        int nSingle = (int) Math.round(count * 0.6);
        int nTwo = count - nSingle;
        Map<String, Integer> single = new LinkedHashMap<>();
        Map<String, Integer> two = new LinkedHashMap<>();
        List<String> singles = new ArrayList<>();
        List<String> twos = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        int singleSlack = 0;
        int twoSlack = 0;
        int singleMisses = 0;
        int twoMisses = 0;
        for (long index = 0; singles.size() < nSingle || twos.size() < nTwo; index++) {
            if (index >= MAX_SCENES) {
                throw new IllegalStateException("could not fill the prompt quotas within " + MAX_SCENES + " scenes");
            }
            Scene s = SceneSampler.sample(seed, index);
            if (s.objects().size() == 1 && singles.size() < nSingle) {
                SceneObject o = s.objects().get(0);
                List<String> keys = List.of("c:" + o.color(), "s:" + o.shape(), "z:" + o.size(), "b:" + s.background(),
                        "p:" + o.cell());
                int[] caps = {ceil(nSingle, 8), ceil(nSingle, 4), ceil(nSingle, 2), ceil(nSingle, 3), ceil(nSingle, 9)};
                String text = Captions.descriptive(s);
                if (fits(single, keys, caps, singleSlack, 4) && seen.add(text)) {
                    take(single, keys);
                    singles.add(text);
                    singleMisses = 0;
                } else if (++singleMisses > STUCK) {
                    singleSlack++;
                    singleMisses = 0;
                }
            } else if (s.objects().size() == 2 && twos.size() < nTwo) {
                SceneObject a = s.objects().get(0);
                SceneObject b = s.objects().get(1);
                Relation r = Relation.between(a.cell(), b.cell());
                String text = Captions.relational(s);
                if (r == null || text == null) {
                    continue;
                }
                List<String> keys = List.of("r:" + r, "c:" + a.color(), "c:" + b.color(), "s:" + a.shape(),
                        "s:" + b.shape());
                int c = ceil(2 * nTwo, 8) + 1;
                int h = ceil(2 * nTwo, 4) + 1;
                int[] caps = {ceil(nTwo, 4), c, c, h, h};
                if (fits(two, keys, caps, twoSlack, 1) && seen.add(text)) {
                    take(two, keys);
                    twos.add(text);
                    twoMisses = 0;
                } else if (++twoMisses > STUCK) {
                    twoSlack++;
                    twoMisses = 0;
                }
            }
        }
        List<EvalPrompt> out = new ArrayList<>();
        for (int i = 0; i < singles.size(); i++) {
            String text = singles.get(i);
            out.add(new EvalPrompt(String.format(Locale.ROOT, "single-%03d", i + 1), text,
                    promptSeed(seed, out.size()), CaptionParser.parse(text)));
        }
        for (int i = 0; i < twos.size(); i++) {
            String text = twos.get(i);
            out.add(new EvalPrompt(String.format(Locale.ROOT, "two-%03d", i + 1), text,
                    promptSeed(seed, out.size()), CaptionParser.parse(text)));
        }
        return out;
    }

    private static int ceil(int n, int k) {
        return (n + k - 1) / k;
    }

    /**
     * Whether every key stays within its cap (keys may repeat: a two-object scene counts a colour twice); keys from
     * index {@code softFrom} on get {@code slack} more.
     */
    private static boolean fits(Map<String, Integer> counts, List<String> keys, int[] caps, int slack, int softFrom) {
        Map<String, Integer> pending = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            String k = keys.get(i);
            int n = counts.getOrDefault(k, 0) + pending.merge(k, 1, Integer::sum);
            if (n > caps[i] + (i >= softFrom ? slack : 0)) {
                return false;
            }
        }
        return true;
    }

    private static void take(Map<String, Integer> counts, List<String> keys) {
        for (String k : keys) {
            counts.merge(k, 1, Integer::sum);
        }
    }

    /**
     * Reads a JSONL prompts file: one object a line with {@code "prompt"} (a Shapes-World prompt), optional
     * {@code "id"} (default {@code line-N}) and {@code "seed"} (default {@link #promptSeed}{@code (setSeed, N-1)});
     * other fields are ignored, blank lines skipped.
     *
     * @throws PromptsFileException naming the first bad line (not JSON, no prompt, a bad or repeated id, a bad seed,
     *                              a prompt outside the Shapes-World grammar or vocabulary), or an empty file
     */
    public static List<EvalPrompt> read(Path file, long setSeed) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        ObjectMapper json = new ObjectMapper();
        Set<String> ids = new HashSet<>();
        List<EvalPrompt> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String text = lines.get(i);
            if (text.isBlank()) {
                continue;
            }
            try {
                out.add(parseLine(json, i + 1, text, ids, setSeed));
            } catch (PromptsFileException e) {
                throw new PromptsFileException("line " + (i + 1) + ": " + e.getMessage());
            }
        }
        if (out.isEmpty()) {
            throw new PromptsFileException("no prompts in the file");
        }
        return out;
    }

    private static EvalPrompt parseLine(ObjectMapper json, int number, String text, Set<String> ids, long setSeed) {
        JsonNode node;
        try {
            node = json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new PromptsFileException("not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new PromptsFileException("expected a JSON object with \"prompt\"");
        }
        JsonNode p = node.get("prompt");
        if (p == null || !p.isTextual()) {
            throw new PromptsFileException("\"prompt\" is missing or not a string");
        }
        String id = "line-" + number;
        JsonNode idNode = node.get("id");
        if (idNode != null && !idNode.isNull()) {
            if (!(idNode.isTextual() || idNode.isIntegralNumber())) {
                throw new PromptsFileException("\"id\" must be a string or an integer");
            }
            id = idNode.asText();
            if (!Checks.isId(id)) {
                throw new PromptsFileException("\"id\" '" + id + "' must be 1..64 characters of A-Z a-z 0-9 . _ -"
                        + " (it names the output files)");
            }
        }
        if (!ids.add(id)) {
            throw new PromptsFileException("\"id\" '" + id + "' is used by an earlier line");
        }
        long seed = promptSeed(setSeed, number - 1);
        JsonNode s = node.get("seed");
        if (s != null && !s.isNull()) {
            try {
                seed = UnsignedSeed.fromJson(s);
            } catch (IllegalArgumentException e) {
                throw new PromptsFileException("\"seed\": " + e.getMessage());
            }
        }
        String prompt = p.asText();
        try {
            return new EvalPrompt(id, prompt, seed, CaptionParser.parse(prompt));
        } catch (IllegalArgumentException e) {
            throw new PromptsFileException("\"prompt\" '" + prompt + "' is not a Shapes-World prompt: " + e.getMessage());
        }
    }

    /** Writes prompts as JSONL ({@code id}, {@code prompt}, {@code seed}, {@code group}), readable by {@link #read}. */
    public static void write(Path file, List<EvalPrompt> prompts) throws IOException {
        ObjectMapper json = new ObjectMapper();
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (EvalPrompt p : prompts) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", p.id());
                m.put("prompt", p.prompt());
                m.put("seed", new BigInteger(Long.toUnsignedString(p.seed())));
                m.put("group", p.group());
                w.write(json.writeValueAsString(m));
                w.write('\n');
            }
        }
    }
}
