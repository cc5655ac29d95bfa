package io.unclip.cli.eval;

import io.unclip.shapes.Judgement;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counts per attribute of {@link Judgement}s (the attributes of {@link Judgement#NAMES}): how often it was stated
 * and how often it was right, plus images with every stated attribute right (GenEval's per-image score).
 */
public final class AttributeTally {
    private final int[] correct = new int[Judgement.NAMES.length];
    private final int[] total = new int[Judgement.NAMES.length];
    private int images;
    private int allCorrect;

    public void add(Judgement j) {
        Boolean[] v = j.verdicts();
        for (int i = 0; i < v.length; i++) {
            if (v[i] != null) {
                total[i]++;
                if (v[i]) {
                    correct[i]++;
                }
            }
        }
        images++;
        if (j.allCorrect()) {
            allCorrect++;
        }
    }

    public int images() {
        return images;
    }

    public int allCorrect() {
        return allCorrect;
    }

    /** Images judged on {@code attribute} (those whose prompt states it). */
    public int total(String attribute) {
        return total[index(attribute)];
    }

    public int correct(String attribute) {
        return correct[index(attribute)];
    }

    /** correct / total, NaN when no prompt stated the attribute. */
    public double accuracy(String attribute) {
        int i = index(attribute);
        return total[i] == 0 ? Double.NaN : (double) correct[i] / total[i];
    }

    /** Images with every stated attribute right / images (NaN with no images). */
    public double overall() {
        return images == 0 ? Double.NaN : (double) allCorrect / images;
    }

    /**
     * {@code {"images": n, "all_correct": {"correct", "total", "accuracy"}, "attributes": {name: {...}}}}, listing
     * only attributes some prompt stated.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("images", images);
        m.put("all_correct", fraction(allCorrect, images));
        Map<String, Object> attrs = new LinkedHashMap<>();
        for (int i = 0; i < Judgement.NAMES.length; i++) {
            if (total[i] > 0) {
                attrs.put(Judgement.NAMES[i], fraction(correct[i], total[i]));
            }
        }
        m.put("attributes", attrs);
        return m;
    }

    static Map<String, Object> fraction(int correct, int total) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("correct", correct);
        m.put("total", total);
        m.put("accuracy", total == 0 ? null : (double) correct / total);
        return m;
    }

    private static int index(String attribute) {
        for (int i = 0; i < Judgement.NAMES.length; i++) {
            if (Judgement.NAMES[i].equals(attribute)) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown attribute " + attribute);
    }
}
