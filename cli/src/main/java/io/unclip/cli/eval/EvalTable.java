package io.unclip.cli.eval;

import io.unclip.shapes.Judgement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code unclip eval}'s summary table for people (the JSON report holds the same numbers). */
public final class EvalTable {
    private EvalTable() {
    }

    private static final Map<String, String> LABELS = Map.of("count", "object count", "colors", "colour",
            "shapes", "shape", "sizes", "size", "cells", "cell", "binding", "colour-shape binding",
            "relation", "relation", "background", "background");

    /** The table of {@code r}: prompt following per group and attribute, CLIP score, FID, IS, captioner agreement. */
    public static List<String> lines(EvalResults r, String style, int size, int promptCount, int dims) {
        List<String> lines = new ArrayList<>();
        lines.add("");
        lines.add(String.format(Locale.ROOT, "Prompt following (SceneJudge, GenEval-style): %d prompts, %d images"
                + " at %dx%d", promptCount, r.generated().images(), size, size));
        lines.add(String.format(Locale.ROOT, "  %-14s %-22s %8s %11s", "group", "attribute", "accuracy", "correct"));
        for (String g : EvalResults.GROUPS) {
            AttributeTally t = r.generated().judged(g);
            if (t.images() == 0) {
                continue;
            }
            String label = g.replace('_', '-');
            lines.add(row(label, "all attributes", t.allCorrect(), t.images()));
            for (String a : Judgement.NAMES) {
                if (t.total(a) > 0) {
                    lines.add(row("", LABELS.get(a), t.correct(a), t.total(a)));
                }
            }
        }
        AttributeTally all = r.generated().judged("all");
        lines.add(row("overall", "all attributes", all.allCorrect(), all.images()));
        AttributeTally refs = r.references().judged("all");
        lines.add(row("references", "all attributes", refs.allCorrect(), refs.images())
                + "   (judge on rendered references: should be 1)");
        lines.add("");
        lines.add(String.format(Locale.ROOT, "CLIP score (the bundle's mini-CLIP, not OpenAI CLIP): %s"
                        + "   references: %s", fmt(r.generated().clipScore(), 2), fmt(r.references().clipScore(), 2)));
        lines.add(String.format(Locale.ROOT, "FID (bundle image-encoder features, %d-d): %s   (%d generated vs %d"
                        + " rendered references)", dims, fmt(r.fid(), 3), r.generated().images(),
                r.references().images()));
        lines.add(String.format(Locale.ROOT, "IS (captioner (colour, shape) labels, %d classes): %s   references: %s",
                CaptionLabels.CLASSES, fmt(r.generated().inceptionScore(), 3),
                fmt(r.references().inceptionScore(), 3)));
        lines.add("");
        lines.add("Captioner agreement with the prompt (" + (style == null ? "default" : style) + " captions, parsed):");
        lines.add(String.format(Locale.ROOT, "  %-22s %-20s %s", "attribute", "generated",
                "references (the captioner's own accuracy)"));
        lines.add(String.format(Locale.ROOT, "  %-22s %-20s %s", "caption parses",
                cell(r.generated().parsedCaptions(), r.generated().images()),
                cell(r.references().parsedCaptions(), r.references().images())));
        AttributeTally cg = r.generated().captions("all");
        AttributeTally cr = r.references().captions("all");
        lines.add(String.format(Locale.ROOT, "  %-22s %-20s %s", "all attributes", cell(cg.allCorrect(), cg.images()),
                cell(cr.allCorrect(), cr.images())));
        for (String a : Judgement.NAMES) {
            if (cg.total(a) > 0) {
                lines.add(String.format(Locale.ROOT, "  %-22s %-20s %s", LABELS.get(a), cell(cg.correct(a),
                        cg.total(a)), cell(cr.correct(a), cr.total(a))));
            }
        }
        return lines;
    }

    private static String row(String group, String attribute, int correct, int total) {
        return String.format(Locale.ROOT, "  %-14s %-22s %8s %11s", group, attribute,
                total == 0 ? "-" : String.format(Locale.ROOT, "%.4f", (double) correct / total), correct + "/" + total);
    }

    private static String cell(int correct, int total) {
        return total == 0 ? "-"
                : String.format(Locale.ROOT, "%.4f %9s", (double) correct / total, correct + "/" + total);
    }

    private static String fmt(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "n/a";
    }
}
