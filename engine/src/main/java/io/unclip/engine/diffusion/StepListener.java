package io.unclip.engine.diffusion;

import io.unclip.engine.tensor.Tensor;

/** Progress and preview hook, called after every step. */
@FunctionalInterface
public interface StepListener {
    StepListener NONE = (step, totalSteps, predX0) -> { };

    /**
     * @param step       0-based count of the step just done, in sampling order (last is totalSteps - 1)
     * @param totalSteps number of steps of the run
     * @param predX0     the step's x0 prediction, shaped like the sample; reused by the next step,
     *                   so copy it to keep it
     */
    void onStep(int step, int totalSteps, Tensor predX0);
}
