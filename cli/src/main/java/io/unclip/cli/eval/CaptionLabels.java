package io.unclip.cli.eval;

import io.unclip.shapes.ObjectColor;
import io.unclip.shapes.ObjectSpec;
import io.unclip.shapes.PromptSpec;
import io.unclip.shapes.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * The classes of the captioner-based Inception Score: the 32 (colour, shape) pairs of Shapes-World plus one class
 * for captions that do not parse ("unreadable"), 33 in all. A parsed caption gives {@code p(y|x)}: each object it
 * names carries weight 1/(number of objects) on its (colour, shape) class (one-hot for one object; a caption
 * naming a shape without a colour spreads that object's weight evenly over the 8 colours of the shape).
 *
 * <p>One-hot labels rather than probabilities: the captioner decodes greedily and reports only the chosen token's
 * log-probability, not the distribution over the alternatives, so a softer {@code p(y|x)} would have to be made up.
 */
public final class CaptionLabels {
    private static final ObjectColor[] COLORS = ObjectColor.values();
    private static final Shape[] SHAPES = Shape.values();
    /** Number of classes: 8 colours x 4 shapes + unreadable. */
    public static final int CLASSES = COLORS.length * SHAPES.length + 1;
    /** Index of the "unreadable" class. */
    public static final int UNREADABLE = CLASSES - 1;

    private CaptionLabels() {
    }

    /** Class index of a (colour, shape) pair. */
    public static int index(ObjectColor color, Shape shape) {
        return color.ordinal() * SHAPES.length + shape.ordinal();
    }

    /** Class names in index order, e.g. "red circle", ..., "unreadable". */
    public static List<String> names() {
        List<String> out = new ArrayList<>();
        for (ObjectColor c : COLORS) {
            for (Shape s : SHAPES) {
                out.add(c.word() + " " + s.word());
            }
        }
        out.add("unreadable");
        return out;
    }

    /** {@code p(y|x)} for a parsed caption, or the unreadable class for null (the caption did not parse). */
    public static double[] distribution(PromptSpec caption) {
        double[] p = new double[CLASSES];
        if (caption == null) {
            p[UNREADABLE] = 1;
            return p;
        }
        double w = 1.0 / caption.objects().size();
        for (ObjectSpec o : caption.objects()) {
            if (o.color() != null) {
                p[index(o.color(), o.shape())] += w;
            } else {
                for (ObjectColor c : COLORS) {
                    p[index(c, o.shape())] += w / COLORS.length;
                }
            }
        }
        return p;
    }
}
