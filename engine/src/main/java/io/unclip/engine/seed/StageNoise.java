package io.unclip.engine.seed;

import io.unclip.engine.diffusion.NoiseSource;

import java.util.Arrays;

/**
 * The {@link NoiseSource} of one stage run over a batch of images: batch row r reads the stream
 * of request image {@code imageIndices[r]} ({@link NoiseSeeds}). Stateful (streams advance as
 * they are read): one instance per sampling run, not thread-safe.
 */
public final class StageNoise implements NoiseSource {
    private final GaussianStream[] streams;

    private StageNoise(GaussianStream[] streams) {
        this.streams = streams;
    }

    /** Rows map to the given request image indices, in order. */
    public static StageNoise forImages(long requestSeed, String stageName, int cascadeStep, int... imageIndices) {
        if (imageIndices == null || imageIndices.length == 0) {
            throw new IllegalArgumentException("at least one image index is required");
        }
        if (Arrays.stream(imageIndices).distinct().count() != imageIndices.length) {
            throw new IllegalArgumentException("image indices must be distinct: " + Arrays.toString(imageIndices));
        }
        GaussianStream[] streams = new GaussianStream[imageIndices.length];
        for (int r = 0; r < streams.length; r++) {
            streams[r] = NoiseSeeds.stream(requestSeed, stageName, imageIndices[r], cascadeStep);
        }
        return new StageNoise(streams);
    }

    /** Rows 0..count-1 map to images firstImage .. firstImage+count-1. */
    public static StageNoise forRange(long requestSeed, String stageName, int cascadeStep, int firstImage, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("image count must be >= 1, got " + count);
        }
        int[] indices = new int[count];
        Arrays.setAll(indices, i -> firstImage + i);
        return forImages(requestSeed, stageName, cascadeStep, indices);
    }

    public int rows() {
        return streams.length;
    }

    @Override
    public void fill(int row, float[] dst, int offset, int length) {
        if (row < 0 || row >= streams.length) {
            throw new IllegalArgumentException("row " + row + " outside [0, " + streams.length + ")");
        }
        streams[row].fill(dst, offset, length);
    }
}
