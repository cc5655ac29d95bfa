package io.unclip.shapes;

/** The three background colours of Shapes-World v1 (sRGB 0..255). */
public enum Background {
    WHITE(240, 240, 240),
    GRAY(128, 128, 128),
    BLACK(20, 20, 20);

    public final int r, g, b;

    Background(int r, int g, int b) {
        this.r = r;
        this.g = g;
        this.b = b;
    }

    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public int[] rgb() {
        return new int[] {r, g, b};
    }

    public static Background fromWord(String w) {
        for (Background c : values()) if (c.word().equals(w)) return c;
        return null;
    }
}
