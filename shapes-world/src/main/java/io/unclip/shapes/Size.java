package io.unclip.shapes;

/** Object size: the side of the shape's bounding box as a fraction of the canvas side. */
public enum Size {
    SMALL(0.22),
    LARGE(0.36);

    public final double side;

    Size(double side) {
        this.side = side;
    }

    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Size fromWord(String w) {
        for (Size s : values()) if (s.word().equals(w)) return s;
        return null;
    }
}
