package io.unclip.shapes;

/**
 * Per-attribute verdicts of one image against one prompt (GenEval style); colours and shapes are multisets (each
 * stated colour/shape is present), sizes, cells and relation use the best prompt-to-detection assignment. Each is null
 * when the prompt does not
 * state that attribute: {@code count} (number of objects), {@code colors} (every stated colour), {@code shapes},
 * {@code sizes}, {@code cells}, {@code binding} (two-object prompts: each prompt object is found with its colour and
 * shape together), {@code relation}, {@code background}.
 */
public record Judgement(SceneAnalysis analysis, Boolean count, Boolean colors, Boolean shapes, Boolean sizes,
                        Boolean cells, Boolean binding, Boolean relation, Boolean background) {
    /** True when every stated attribute is correct. */
    public boolean allCorrect() {
        for (Boolean b : verdicts()) if (b != null && !b) return false;
        return true;
    }

    public Boolean[] verdicts() {
        return new Boolean[] {count, colors, shapes, sizes, cells, binding, relation, background};
    }

    public static final String[] NAMES = {"count", "colors", "shapes", "sizes", "cells", "binding", "relation", "background"};
}
