package io.unclip.cli.eval;

import io.unclip.shapes.Background;
import io.unclip.shapes.Cell;
import io.unclip.shapes.ObjectColor;
import io.unclip.shapes.ObjectSpec;
import io.unclip.shapes.PromptSpec;
import io.unclip.shapes.Relation;
import io.unclip.shapes.Renderer;
import io.unclip.shapes.RgbImage;
import io.unclip.shapes.Scene;
import io.unclip.shapes.SceneObject;
import io.unclip.shapes.SceneSampler;
import io.unclip.shapes.Shape;
import io.unclip.shapes.Size;
import io.unclip.shapes.SplitMix64;
import java.util.ArrayList;
import java.util.List;

/**
 * Scenes that satisfy a prompt: the reference images of the evaluation. Every attribute the prompt states is
 * kept; the others (background, colour, size, cell, the jitter) are drawn uniformly, as {@link SceneSampler} draws
 * them, and a two-object scene must meet the world's pair rules ({@link SceneSampler#compatible}: different cells,
 * not both colour and shape equal, a clear gap). A stated relation is met the way relational captions read it
 * ({@link Relation#between}: above/below across rows, left/right within a row), so that a captioner trained on those
 * captions can name it. Unstated attributes are drawn again (rejection sampling) until the scene is valid.
 */
public final class ReferenceScenes {
    /** Draws before giving up: a valid prompt succeeds within a few dozen. */
    static final int MAX_TRIES = 20_000;

    private static final Background[] BACKGROUNDS = Background.values();
    private static final ObjectColor[] COLORS = ObjectColor.values();
    private static final Size[] SIZES = Size.values();
    private static final Cell[] CELLS = Cell.values();

    private ReferenceScenes() {
    }

    /**
     * A scene satisfying {@code spec}, drawn from {@code rng}.
     *
     * @throws IllegalArgumentException when no Shapes-World scene satisfies it (e.g. two objects in one cell, two
     *                                  large objects in neighbouring cells, a relation the cells contradict)
     */
    public static Scene sample(PromptSpec spec, SplitMix64 rng) {
        for (int t = 0; t < MAX_TRIES; t++) {
            Background bg = spec.background() != null ? spec.background()
                    : BACKGROUNDS[rng.nextInt(BACKGROUNDS.length)];
            List<SceneObject> objs = new ArrayList<>();
            for (ObjectSpec o : spec.objects()) {
                objs.add(draw(o, rng));
            }
            if (objs.size() == 2) {
                SceneObject a = objs.get(0);
                SceneObject b = objs.get(1);
                if (spec.relation() != null && Relation.between(a.cell(), b.cell()) != spec.relation()) {
                    continue;
                }
                if (!SceneSampler.compatible(a, b)) {
                    continue;
                }
            }
            return new Scene(bg, objs);
        }
        throw new IllegalArgumentException("no Shapes-World scene satisfies it: two objects need different cells, a"
                + " clear gap between them (two large objects cannot be in neighbouring cells), not both the same colour"
                + " and shape, and cells that agree with the relation");
    }

    /**
     * The {@code n} reference images of an evaluation prompt at {@code size}: scenes drawn one after the other from
     * the prompt's own stream ({@code SplitMix64.forScene(prompt seed, 0x5EF)}), so they are the same on every run.
     *
     * @throws IllegalArgumentException when no scene satisfies the prompt
     */
    public static List<RgbImage> render(EvalPrompt p, int n, int size) {
        SplitMix64 rng = SplitMix64.forScene(p.seed(), 0x5EF);
        List<RgbImage> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Renderer.render(sample(p.spec(), rng), size));
        }
        return out;
    }

    private static SceneObject draw(ObjectSpec o, SplitMix64 rng) {
        Shape shape = o.shape();
        ObjectColor color = o.color() != null ? o.color() : COLORS[rng.nextInt(COLORS.length)];
        Size size = o.size() != null ? o.size() : SIZES[rng.nextInt(SIZES.length)];
        Cell cell = o.cell() != null ? o.cell() : CELLS[rng.nextInt(CELLS.length)];
        double cx = cell.centreX() + (2.0 * rng.nextDouble() - 1.0) * Cell.JITTER;
        double cy = cell.centreY() + (2.0 * rng.nextDouble() - 1.0) * Cell.JITTER;
        return new SceneObject(shape, color, size, cell, cx, cy);
    }
}
