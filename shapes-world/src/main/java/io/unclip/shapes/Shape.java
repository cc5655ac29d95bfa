package io.unclip.shapes;

/**
 * The four shapes. Geometry, in canvas-normalised coordinates (x right, y down, canvas side 1), for an
 * object with bounding-box side {@code s} centred at {@code (cx, cy)} and {@code h = s/2}:
 * <ul>
 *   <li>{@code circle}: {@code (x-cx)^2 + (y-cy)^2 <= h^2}</li>
 *   <li>{@code square}: {@code |x-cx| <= h && |y-cy| <= h}</li>
 *   <li>{@code diamond}: {@code |x-cx| + |y-cy| <= h} (a square rotated 45 degrees; diagonals = s)</li>
 *   <li>{@code triangle}: equilateral, pointing up, base at the bottom. Its base is the full box width
 *       {@code s}; its height is {@code H = s*sqrt(3)/2}, and it is centred vertically in the box, i.e. its own
 *       bounding box {@code [cx-h, cx+h] x [cy-H/2, cy+H/2]} has its centre at {@code (cx, cy)}. A point is
 *       inside iff {@code y <= cy + H/2} and {@code |x-cx| <= (y - (cy - H/2)) / sqrt(3)}.</li>
 * </ul>
 * Boundary points count as inside. All arithmetic is IEEE double (strict in Java 17).
 */
public enum Shape {
    CIRCLE,
    SQUARE,
    TRIANGLE,
    DIAMOND;

    public static final double SQRT3 = Math.sqrt(3.0);

    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Shape fromWord(String w) {
        for (Shape s : values()) if (s.word().equals(w)) return s;
        return null;
    }

    /** Half of the shape's own bounding-box height for box side {@code side} (the triangle is shorter). */
    public double halfHeight(double side) {
        return this == TRIANGLE ? side * SQRT3 / 4.0 : side / 2.0;
    }

    /** Inside test; see the class comment. */
    public boolean contains(double cx, double cy, double side, double x, double y) {
        double h = side / 2.0;
        double dx = x - cx, dy = y - cy;
        switch (this) {
            case CIRCLE:
                return dx * dx + dy * dy <= h * h;
            case SQUARE:
                return Math.abs(dx) <= h && Math.abs(dy) <= h;
            case DIAMOND:
                return Math.abs(dx) + Math.abs(dy) <= h;
            case TRIANGLE: {
                double hh = side * SQRT3 / 4.0; // half height
                if (dy > hh) return false;
                return Math.abs(dx) <= (dy + hh) / SQRT3;
            }
            default:
                throw new IllegalStateException();
        }
    }
}
