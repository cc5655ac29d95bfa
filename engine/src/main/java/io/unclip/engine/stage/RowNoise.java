package io.unclip.engine.stage;

import io.unclip.engine.diffusion.NoiseSource;
import io.unclip.engine.seed.GaussianStream;
import io.unclip.engine.seed.NoiseSeeds;

/**
 * Noise of one sampling run: batch row r reads the {@link NoiseSeeds} stream of
 * (seed, stream name, image index[r], cascade step[r]). Unlike
 * {@link io.unclip.engine.seed.StageNoise} two rows may name the same image (interpolation frames
 * share their decoder noise): each row still gets its own stream object, so both read the same
 * values. With distinct indices it is exactly {@code StageNoise.forImages}. Stateful: one per run.
 */
public final class RowNoise implements NoiseSource {
    private final GaussianStream[] streams;

    private RowNoise(GaussianStream[] streams) {
        this.streams = streams;
    }

    /** Row r: image {@code imageIndices[r]} at {@code cascadeStep}. */
    public static RowNoise of(long seed, String streamName, int cascadeStep, int[] imageIndices) {
        int[] steps = new int[imageIndices.length];
        java.util.Arrays.fill(steps, cascadeStep);
        return of(seed, streamName, imageIndices, steps);
    }

    /** Row r: image {@code imageIndices[r]} at {@code cascadeSteps[r]}. */
    public static RowNoise of(long seed, String streamName, int[] imageIndices, int[] cascadeSteps) {
        if (imageIndices.length == 0 || imageIndices.length != cascadeSteps.length) {
            throw new IllegalArgumentException("need one image index and cascade step per row, got "
                    + imageIndices.length + " and " + cascadeSteps.length);
        }
        GaussianStream[] streams = new GaussianStream[imageIndices.length];
        for (int r = 0; r < streams.length; r++) {
            streams[r] = NoiseSeeds.stream(seed, streamName, imageIndices[r], cascadeSteps[r]);
        }
        return new RowNoise(streams);
    }

    public int rows() {
        return streams.length;
    }

    @Override
    public void fill(int row, float[] dst, int offset, int length) {
        streams[row].fill(dst, offset, length);
    }
}
