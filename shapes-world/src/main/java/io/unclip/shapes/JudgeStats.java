package io.unclip.shapes;

import java.util.Locale;

/** Accumulates per-attribute accuracy of {@link Judgement}s (GenEval-style report). */
public final class JudgeStats {
    private final int[] correct = new int[Judgement.NAMES.length];
    private final int[] total = new int[Judgement.NAMES.length];
    private int images, allCorrect;

    public void add(Judgement j) {
        Boolean[] v = j.verdicts();
        for (int i = 0; i < v.length; i++) {
            if (v[i] == null) continue;
            total[i]++;
            if (v[i]) correct[i]++;
        }
        images++;
        if (j.allCorrect()) allCorrect++;
    }

    public int images() { return images; }

    /** Fraction of images with every stated attribute correct. */
    public double overall() {
        return images == 0 ? 0 : (double) allCorrect / images;
    }

    /** Accuracy of one attribute (see {@link Judgement#NAMES}), NaN when never stated. */
    public double accuracy(String name) {
        for (int i = 0; i < Judgement.NAMES.length; i++)
            if (Judgement.NAMES[i].equals(name)) return total[i] == 0 ? Double.NaN : (double) correct[i] / total[i];
        throw new IllegalArgumentException(name);
    }

    public String report() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "images %d, all attributes correct %.4f%n", images, overall()));
        for (int i = 0; i < Judgement.NAMES.length; i++)
            if (total[i] > 0)
                sb.append(String.format(Locale.ROOT, "  %-10s %.4f (%d/%d)%n", Judgement.NAMES[i],
                        (double) correct[i] / total[i], correct[i], total[i]));
        return sb.toString();
    }

    /**
     * Judges clean renders of scenes {@code 0..count-1} of {@code seed} at {@code size} against their descriptive
     * caption, and (two-object scenes) their relational caption, so every attribute is exercised.
     */
    public static JudgeStats onRenders(long seed, int count, int size) {
        JudgeStats st = new JudgeStats();
        for (int i = 0; i < count; i++) {
            Scene s = SceneSampler.sample(seed, i);
            RgbImage img = Renderer.render(s, size);
            SceneAnalysis a = SceneJudge.analyze(img);
            st.add(SceneJudge.score(a, CaptionParser.parse(Captions.descriptive(s))));
            String rel = Captions.relational(s);
            if (rel != null) st.add(SceneJudge.score(a, CaptionParser.parse(rel)));
        }
        return st;
    }
}
