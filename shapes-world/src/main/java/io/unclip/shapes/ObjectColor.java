package io.unclip.shapes;

/** The eight object colours of Shapes-World v1 (sRGB 0..255). No object is gray, black or white. */
public enum ObjectColor {
    RED(220, 40, 40),
    GREEN(40, 170, 60),
    BLUE(40, 80, 220),
    YELLOW(240, 210, 40),
    PURPLE(140, 60, 180),
    ORANGE(245, 140, 30),
    CYAN(40, 200, 210),
    PINK(240, 120, 170);

    public final int r, g, b;

    ObjectColor(int r, int g, int b) {
        this.r = r;
        this.g = g;
        this.b = b;
    }

    /** The caption word, e.g. {@code "red"}. */
    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public int[] rgb() {
        return new int[] {r, g, b};
    }

    public static ObjectColor fromWord(String w) {
        for (ObjectColor c : values()) if (c.word().equals(w)) return c;
        return null;
    }
}
