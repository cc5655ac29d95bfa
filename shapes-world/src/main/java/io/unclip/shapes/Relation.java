package io.unclip.shapes;

/** Spatial relation of the first object to the second, as read in relational captions. */
public enum Relation {
    ABOVE("above"),
    BELOW("below"),
    LEFT_OF("to the left of"),
    RIGHT_OF("to the right of");

    private final String words;

    Relation(String words) {
        this.words = words;
    }

    public String words() {
        return words;
    }

    /**
     * The caption rule: {@code above}/{@code below} when the rows differ, otherwise
     * {@code to the left of}/{@code to the right of}. Null when both cells are the same (never in a scene).
     */
    public static Relation between(Cell a, Cell b) {
        if (a.row != b.row) return a.row < b.row ? ABOVE : BELOW;
        if (a.col != b.col) return a.col < b.col ? LEFT_OF : RIGHT_OF;
        return null;
    }

    /** Whether {@code a rel b} holds for two cells (above: a's row is higher; left of: a's column is further left). */
    public boolean holds(Cell a, Cell b) {
        switch (this) {
            case ABOVE: return a.row < b.row;
            case BELOW: return a.row > b.row;
            case LEFT_OF: return a.col < b.col;
            case RIGHT_OF: return a.col > b.col;
            default: throw new IllegalStateException();
        }
    }
}
