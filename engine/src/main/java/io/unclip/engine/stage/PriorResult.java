package io.unclip.engine.stage;

import io.unclip.engine.tensor.Tensor;

/**
 * The prior's output.
 *
 * @param imageEmbeds the kept image embedding per image, {@code [N, E]}, de-normalised
 * @param candidates  every sampled candidate, {@code [N * C, E]}, row {@code n * C + c}, de-normalised
 * @param scores      per candidate (same order), the cosine similarity with the image's text embedding
 * @param chosen      per image, the kept candidate (the highest score, the first on ties)
 * @param settings    the sampler settings used
 * @param timings     what the run cost
 */
public record PriorResult(Tensor imageEmbeds, Tensor candidates, double[] scores, int[] chosen,
                          int candidatesPerImage, SamplerSettings settings, StageTimings timings) {
}
