package io.unclip.engine.stage;

import io.unclip.engine.model.StageKind;

/**
 * A stage run began.
 *
 * @param stage       the stage's name in the bundle (e.g. "decoder", "upsampler_128")
 * @param kind        what the stage does
 * @param cascadeStep the upsampler's 0-based 4x step; 0 for other stages
 * @param totalSteps  steps the run will take (sampling steps; 1 for a single model call;
 *                    the token budget for the captioner)
 * @param rows        samples in the run (images, or prior candidates)
 */
public record StageStarted(String stage, StageKind kind, int cascadeStep, int totalSteps, int rows) {
}
