package io.unclip.engine.schedule;

import io.unclip.engine.tensor.Tensor;

/**
 * A step of one request, handed from the scheduler's thread to the request's own.
 *
 * @param step    1-based steps done
 * @param preview the x0 prediction when this step carries one (a copy), else null
 */
public record StepProgress(int step, int total, Tensor preview) {
}
