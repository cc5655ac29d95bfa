package io.unclip.shapes;

/** What a prompt states about one object; null = not stated. The shape is always stated. */
public record ObjectSpec(Shape shape, ObjectColor color, Size size, Cell cell) {
    public ObjectSpec {
        java.util.Objects.requireNonNull(shape, "shape");
    }

    public static ObjectSpec of(SceneObject o) {
        return new ObjectSpec(o.shape(), o.color(), o.size(), o.cell());
    }
}
