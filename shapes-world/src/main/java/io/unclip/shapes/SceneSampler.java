package io.unclip.shapes;

import java.util.List;

/**
 * Deterministic scene sampling. Scene {@code index} of the dataset with seed {@code datasetSeed} is drawn from
 * {@link SplitMix64#forScene(long, long)} as follows (every draw in this order):
 * <ol>
 *   <li>background = {@code [white, gray, black][nextInt(3)]}</li>
 *   <li>object count = {@code 1 + nextInt(2)}</li>
 *   <li>each object, in order: shape = {@code [circle, square, triangle, diamond][nextInt(4)]},
 *       colour = {@code ObjectColor.values()[nextInt(8)]}, size = {@code [small, large][nextInt(2)]},
 *       cell = {@code Cell.values()[nextInt(9)]} (row-major from top left), then
 *       {@code cx = cellX + (2*nextDouble() - 1) * 0.02}, {@code cy = cellY + (2*nextDouble() - 1) * 0.02}.</li>
 *   <li>a two-object scene whose pair breaks a constraint is drawn again as a whole pair (both objects,
 *       continuing the same stream; the background and count stay) until it satisfies all of them:
 *       different cells; not both the same colour and the same shape; no overlap, where "no overlap" means
 *       the two bounding boxes are separated by at least {@link #MIN_GAP} of the canvas along x or along y
 *       (a clear gap, so objects never touch even after downsampling to 32x32).</li>
 * </ol>
 * The background-family rule needs no check: object colours are all chromatic (no white, gray or black).
 */
public final class SceneSampler {
    /** Minimum gap between two objects' bounding boxes, as a fraction of the canvas side. */
    public static final double MIN_GAP = 0.04;

    private static final Background[] BACKGROUNDS = Background.values();
    private static final Shape[] SHAPES = Shape.values();
    private static final ObjectColor[] COLORS = ObjectColor.values();
    private static final Size[] SIZES = Size.values();
    private static final Cell[] CELLS = Cell.values();

    private SceneSampler() {}

    /** Scene {@code index} of the dataset seeded with {@code datasetSeed}. */
    public static Scene sample(long datasetSeed, long index) {
        return sample(SplitMix64.forScene(datasetSeed, index));
    }

    public static Scene sample(SplitMix64 rng) {
        Background bg = BACKGROUNDS[rng.nextInt(BACKGROUNDS.length)];
        int n = 1 + rng.nextInt(2);
        if (n == 1) return new Scene(bg, List.of(drawObject(rng)));
        while (true) {
            SceneObject a = drawObject(rng);
            SceneObject b = drawObject(rng);
            if (compatible(a, b)) return new Scene(bg, List.of(a, b));
        }
    }

    static SceneObject drawObject(SplitMix64 rng) {
        Shape shape = SHAPES[rng.nextInt(SHAPES.length)];
        ObjectColor color = COLORS[rng.nextInt(COLORS.length)];
        Size size = SIZES[rng.nextInt(SIZES.length)];
        Cell cell = CELLS[rng.nextInt(CELLS.length)];
        double cx = cell.centreX() + (2.0 * rng.nextDouble() - 1.0) * Cell.JITTER;
        double cy = cell.centreY() + (2.0 * rng.nextDouble() - 1.0) * Cell.JITTER;
        return new SceneObject(shape, color, size, cell, cx, cy);
    }

    /** The pair constraints of the spec (see the class comment). */
    public static boolean compatible(SceneObject a, SceneObject b) {
        if (a.cell() == b.cell()) return false;
        if (a.color() == b.color() && a.shape() == b.shape()) return false;
        return a.separatedFrom(b, MIN_GAP);
    }
}
