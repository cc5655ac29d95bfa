package io.unclip.engine.model;

/**
 * Per-dimension statistics of an embedding space: the model works on (x - mean) / std.
 * Given inline in the manifest or in a JSON file next to it ({@code {"mean": [...], "std": [...]}}).
 */
public record Normalization(float[] mean, float[] std) {

    public Normalization {
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    public int dim() {
        return mean.length;
    }
}
