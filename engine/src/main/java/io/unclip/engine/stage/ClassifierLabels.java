package io.unclip.engine.stage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The label heads of a classifier stage ({@code labels.json} beside its graph) and how a prompt
 * names them. The classifier's {@code target} input is one one-hot block per head, in file order;
 * an all-zero block leaves that head out of log p(y | x_t).
 *
 * <pre>{"heads": [{"name": "color", "labels": {"red": ["red"], ...}},
 *            {"name": "cell", "labels": {"top left": ["at the top left"], ...}}]}</pre>
 *
 * <p>A prompt's label for a head is the one with a phrase (a whole-word sequence, case-insensitive)
 * earliest in the prompt, the longest phrase winning at one position: the main object, which every
 * caption of the grammar names first ("a red circle above a blue square" -> red, circle, no cell).
 */
public final class ClassifierLabels {
    /** One head: its name and its labels with their phrases, in target order. */
    public record Head(String name, List<String> labels, List<List<String[]>> phrases) {
    }

    private final List<Head> heads;
    private final int width;

    private ClassifierLabels(List<Head> heads) {
        this.heads = List.copyOf(heads);
        this.width = heads.stream().mapToInt(h -> h.labels().size()).sum();
    }

    /** @throws IllegalArgumentException saying what is wrong with the file */
    public static ClassifierLabels read(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the classifier's labels: " + e.getMessage(), e);
        }
        JsonNode hs = root == null ? null : root.get("heads");
        if (hs == null || !hs.isArray() || hs.isEmpty()) {
            throw new IllegalArgumentException(file + ": 'heads' must be a non-empty array");
        }
        List<Head> heads = new ArrayList<>();
        for (JsonNode h : hs) {
            JsonNode name = h.get("name");
            JsonNode labels = h.get("labels");
            if (name == null || !name.isTextual() || labels == null || !labels.isObject() || labels.isEmpty()) {
                throw new IllegalArgumentException(file + ": every head needs a 'name' and a non-empty 'labels' object");
            }
            List<String> names = new ArrayList<>();
            List<List<String[]>> phrases = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = labels.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                List<String[]> ps = new ArrayList<>();
                if (!e.getValue().isArray() || e.getValue().isEmpty()) {
                    throw new IllegalArgumentException(file + ": label '" + e.getKey() + "' of head '" + name.asText()
                            + "' needs a non-empty array of phrases");
                }
                for (JsonNode p : e.getValue()) {
                    String[] words = words(p.asText());
                    if (words.length == 0) {
                        throw new IllegalArgumentException(file + ": label '" + e.getKey() + "' has an empty phrase");
                    }
                    ps.add(words);
                }
                names.add(e.getKey());
                phrases.add(ps);
            }
            heads.add(new Head(name.asText(), names, phrases));
        }
        return new ClassifierLabels(heads);
    }

    public List<Head> heads() {
        return heads;
    }

    /** Width of a target row: the number of labels of all heads. */
    public int width() {
        return width;
    }

    /** Per head, the label the prompt names for its main object, or -1 when it names none. */
    public int[] labelsOf(String prompt) {
        String[] words = words(prompt);
        int[] out = new int[heads.size()];
        for (int h = 0; h < heads.size(); h++) {
            out[h] = firstNamed(heads.get(h), words);
        }
        return out;
    }

    /** The label names the prompt gives, head name -> label, for messages and parameters. */
    public Map<String, String> describe(String prompt) {
        int[] ids = labelsOf(prompt);
        Map<String, String> out = new LinkedHashMap<>();
        for (int h = 0; h < heads.size(); h++) {
            if (ids[h] >= 0) {
                out.put(heads.get(h).name(), heads.get(h).labels().get(ids[h]));
            }
        }
        return out;
    }

    /** The classifier's target row for a prompt: one-hot per head it names, zeros for the others. */
    public float[] target(String prompt) {
        int[] ids = labelsOf(prompt);
        float[] row = new float[width];
        int start = 0;
        for (int h = 0; h < heads.size(); h++) {
            if (ids[h] >= 0) {
                row[start + ids[h]] = 1f;
            }
            start += heads.get(h).labels().size();
        }
        return row;
    }

    private static int firstNamed(Head head, String[] words) {
        for (int at = 0; at < words.length; at++) {
            int best = -1;
            int bestLength = 0;
            for (int l = 0; l < head.labels().size(); l++) {
                for (String[] phrase : head.phrases().get(l)) {
                    if (phrase.length > bestLength && matches(words, at, phrase)) {
                        best = l;
                        bestLength = phrase.length;
                    }
                }
            }
            if (best >= 0) {
                return best;
            }
        }
        return -1;
    }

    private static boolean matches(String[] words, int at, String[] phrase) {
        if (at + phrase.length > words.length) {
            return false;
        }
        for (int i = 0; i < phrase.length; i++) {
            if (!words[at + i].equals(phrase[i])) {
                return false;
            }
        }
        return true;
    }

    private static String[] words(String text) {
        return Arrays.stream(text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+"))
                .filter(w -> !w.isEmpty()).toArray(String[]::new);
    }
}
