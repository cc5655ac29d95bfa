package io.unclip.engine.model;

/**
 * One dimension of a manifest shape: a fixed size, or dynamic (written -1 or as a symbolic
 * name such as "batch").
 *
 * @param size   the size, or -1 when dynamic
 * @param symbol the symbolic name of a dynamic dimension, or null
 */
public record Dim(long size, String symbol) {

    public static Dim fixed(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("fixed dimension must be >= 0, got " + size);
        }
        return new Dim(size, null);
    }

    public static Dim dynamic(String symbol) {
        return new Dim(-1, symbol);
    }

    public boolean isDynamic() {
        return size < 0;
    }

    @Override
    public String toString() {
        return size >= 0 ? Long.toString(size) : symbol != null ? symbol : "-1";
    }
}
