package io.unclip.engine.stage;

import io.unclip.engine.tensor.Tensor;

/**
 * Images made by a decoder or upsampler run.
 *
 * @param images   {@code [N, C, H, W]}, model space (about [-1, 1]; PNG encoding clamps)
 * @param settings the sampler settings used
 * @param timings  what the run cost
 */
public record DiffusionOutput(Tensor images, SamplerSettings settings, StageTimings timings) {
}
