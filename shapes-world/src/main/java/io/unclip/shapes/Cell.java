package io.unclip.shapes;

/** The 3x3 grid. Cell centres at 0.22, 0.50, 0.78 of the side; column 0 = left, row 0 = top. */
public enum Cell {
    TOP_LEFT(0, 0, "top left"),
    TOP(1, 0, "top"),
    TOP_RIGHT(2, 0, "top right"),
    LEFT(0, 1, "left"),
    CENTER(1, 1, "center"),
    RIGHT(2, 1, "right"),
    BOTTOM_LEFT(0, 2, "bottom left"),
    BOTTOM(1, 2, "bottom"),
    BOTTOM_RIGHT(2, 2, "bottom right");

    /** Centre coordinate of grid column/row 0, 1, 2. */
    public static final double[] CENTRES = {0.22, 0.50, 0.78};
    /** Maximum absolute jitter per axis. */
    public static final double JITTER = 0.02;

    public final int col, row;
    private final String words;

    Cell(int col, int row, String words) {
        this.col = col;
        this.row = row;
        this.words = words;
    }

    /** The caption words, e.g. {@code "top left"}, {@code "center"}. */
    public String words() {
        return words;
    }

    public double centreX() {
        return CENTRES[col];
    }

    public double centreY() {
        return CENTRES[row];
    }

    public static Cell of(int col, int row) {
        return values()[row * 3 + col];
    }

    public static Cell fromWords(String w) {
        for (Cell c : values()) if (c.words.equals(w)) return c;
        return null;
    }

    /** Grid index (0..2) of a normalised coordinate: nearest cell centre (boundaries at 0.36 and 0.64). */
    public static int gridIndex(double v) {
        return v < 0.36 ? 0 : (v < 0.64 ? 1 : 2);
    }

    /** The cell whose centre is nearest to a normalised position. */
    public static Cell nearest(double x, double y) {
        return of(gridIndex(x), gridIndex(y));
    }
}
