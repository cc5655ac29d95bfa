package io.unclip.shapes;

import java.util.Objects;

/**
 * One object of a scene: its attributes and its exact centre {@code (cx, cy)} in canvas-normalised coordinates
 * (cell centre plus jitter). The bounding box is {@code [cx - side/2, cx + side/2] x [cy - hh, cy + hh]} with
 * {@code hh = shape.halfHeight(side)}.
 */
public record SceneObject(Shape shape, ObjectColor color, Size size, Cell cell, double cx, double cy) {
    public SceneObject {
        Objects.requireNonNull(shape);
        Objects.requireNonNull(color);
        Objects.requireNonNull(size);
        Objects.requireNonNull(cell);
    }

    public double side() {
        return size.side;
    }

    public double minX() { return cx - size.side / 2.0; }
    public double maxX() { return cx + size.side / 2.0; }
    public double minY() { return cy - shape.halfHeight(size.side); }
    public double maxY() { return cy + shape.halfHeight(size.side); }

    public boolean contains(double x, double y) {
        return shape.contains(cx, cy, size.side, x, y);
    }

    /** True when the two bounding boxes are separated by at least {@code gap} along x or along y. */
    public boolean separatedFrom(SceneObject o, double gap) {
        return o.minX() - maxX() >= gap || minX() - o.maxX() >= gap
                || o.minY() - maxY() >= gap || minY() - o.maxY() >= gap;
    }
}
