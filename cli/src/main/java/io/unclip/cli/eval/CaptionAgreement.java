package io.unclip.cli.eval;

import io.unclip.shapes.Background;
import io.unclip.shapes.Cell;
import io.unclip.shapes.Judgement;
import io.unclip.shapes.ObjectColor;
import io.unclip.shapes.ObjectSpec;
import io.unclip.shapes.PromptSpec;
import io.unclip.shapes.Relation;
import io.unclip.shapes.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * Scores a caption, parsed into a {@link PromptSpec}, against the prompt an image was made for, with the rules
 * {@link io.unclip.shapes.SceneJudge#score} applies to what it sees in an image: for every attribute the prompt
 * states (the others are null) the verdict is whether the caption says the same. Colours and shapes as multisets;
 * sizes, cells, binding and relation through the best assignment of prompt objects to caption objects. An attribute
 * the caption leaves out counts as wrong; so does everything when the caption did not parse (null).
 *
 * <p>The relation holds when the caption's cells satisfy it, or, for a caption that states a relation instead of
 * cells, when that relation (turned round if the assignment swaps the objects) is the prompt's.
 */
public final class CaptionAgreement {
    private CaptionAgreement() {
    }

    public static Judgement score(PromptSpec prompt, PromptSpec caption) {
        List<ObjectSpec> want = prompt.objects();
        List<ObjectSpec> got = caption == null ? List.of() : caption.objects();
        int[] best = null;
        int bestScore = -1;
        for (int[] asg : assignments(want.size(), got.size())) {
            int s = 0;
            for (int i = 0; i < want.size(); i++) {
                if (asg[i] >= 0) {
                    s += matchScore(want.get(i), got.get(asg[i]));
                }
            }
            if (s > bestScore) {
                bestScore = s;
                best = asg;
            }
        }
        boolean anyColor = false;
        boolean anySize = false;
        boolean anyCell = false;
        boolean sizes = true;
        boolean cells = true;
        boolean binding = true;
        for (int i = 0; i < want.size(); i++) {
            ObjectSpec o = want.get(i);
            ObjectSpec d = best[i] >= 0 ? got.get(best[i]) : null;
            if (o.color() != null) {
                anyColor = true;
            }
            if (o.size() != null) {
                anySize = true;
                sizes &= d != null && d.size() == o.size();
            }
            if (o.cell() != null) {
                anyCell = true;
                cells &= d != null && d.cell() == o.cell();
            }
            binding &= d != null && d.shape() == o.shape() && (o.color() == null || d.color() == o.color());
        }
        List<ObjectColor> gotColors = new ArrayList<>();
        List<Shape> gotShapes = new ArrayList<>();
        for (ObjectSpec d : got) {
            if (d.color() != null) {
                gotColors.add(d.color());
            }
            gotShapes.add(d.shape());
        }
        boolean colors = true;
        boolean shapes = true;
        for (ObjectSpec o : want) {
            if (o.color() != null) {
                colors &= gotColors.remove(o.color());
            }
            shapes &= gotShapes.remove(o.shape());
        }
        Boolean relation = null;
        if (prompt.relation() != null) {
            relation = best[0] >= 0 && best[1] >= 0 && relationHolds(prompt.relation(), caption, best[0], best[1]);
        }
        Boolean bindingV = want.size() == 2 && anyColor ? binding : null;
        Background bg = caption == null ? null : caption.background();
        Boolean bgV = prompt.background() == null ? null : bg == prompt.background();
        return new Judgement(null, got.size() == want.size(), anyColor ? colors : null, shapes,
                anySize ? sizes : null, anyCell ? cells : null, bindingV, relation, bgV);
    }

    /** Whether caption objects a and b (a the prompt's first object) stand in relation {@code r}. */
    private static boolean relationHolds(Relation r, PromptSpec caption, int a, int b) {
        Cell ca = caption.objects().get(a).cell();
        Cell cb = caption.objects().get(b).cell();
        if (ca != null && cb != null) {
            return r.holds(ca, cb);
        }
        Relation said = caption.relation();
        if (said == null) {
            return false;
        }
        return a == 0 ? said == r : inverse(said) == r; // the caption's relation is of its object 0 to its object 1
    }

    static Relation inverse(Relation r) {
        return switch (r) {
            case ABOVE -> Relation.BELOW;
            case BELOW -> Relation.ABOVE;
            case LEFT_OF -> Relation.RIGHT_OF;
            case RIGHT_OF -> Relation.LEFT_OF;
        };
    }

    private static int matchScore(ObjectSpec o, ObjectSpec d) {
        int s = 1;
        if (o.color() == null || o.color() == d.color()) {
            s += 10;
        }
        if (o.shape() == d.shape()) {
            s += 10;
        }
        if (o.color() != null && o.color() == d.color() && o.shape() == d.shape()) {
            s += 5;
        }
        if (o.size() == null || o.size() == d.size()) {
            s += 2;
        }
        if (o.cell() == null || o.cell() == d.cell()) {
            s += 2;
        }
        return s;
    }

    private static List<int[]> assignments(int k, int m) {
        List<int[]> out = new ArrayList<>();
        if (k == 1) {
            out.add(new int[] {-1});
            for (int i = 0; i < m; i++) {
                out.add(new int[] {i});
            }
        } else {
            for (int i = -1; i < m; i++) {
                for (int j = -1; j < m; j++) {
                    if (i < 0 || i != j) {
                        out.add(new int[] {i, j});
                    }
                }
            }
        }
        return out;
    }
}
