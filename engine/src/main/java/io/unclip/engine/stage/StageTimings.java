package io.unclip.engine.stage;

import io.unclip.engine.model.StageKind;

/**
 * What one stage run cost.
 *
 * @param stage       stage name in the bundle
 * @param kind        stage kind
 * @param cascadeStep the upsampler's 0-based 4x step; 0 for other stages
 * @param steps       sampling steps run (model calls for the captioner, 1 for encoders)
 * @param modelCalls  ONNX Runtime runs made
 * @param wallNanos   wall-clock time of the run
 * @param ortNanos    time inside {@code OrtSession.run} during the run, from
 *                    {@link io.unclip.engine.onnx.ModelSession#ortNanos()}; exact when the session
 *                    is not shared with concurrent runs (then it also counts theirs)
 */
public record StageTimings(String stage, StageKind kind, int cascadeStep, int steps, int modelCalls,
                           long wallNanos, long ortNanos) {

    public double wallMillis() {
        return wallNanos / 1e6;
    }

    public double ortMillis() {
        return ortNanos / 1e6;
    }
}
