package io.unclip.engine.schedule;

import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.tensor.Tensor;

/** One request's part of a shared model call, as the {@link StepModel} assembles it. */
public interface StepRows {
    /** Model rows (N, or 2N with guidance). */
    int rows();

    /** Prediction channels per row the model gives for these rows. */
    int outputChannels();

    /** The model timestep of every one of these rows at this step. */
    long timestep();

    /** Whether this step is the request's final one (a stage may run it through another graph). */
    default boolean lastStep() {
        return false;
    }

    /** These rows of the model's sample input at this step, [rows, ...]; read before the call returns. */
    Tensor sample();

    /** These rows of every other input, fixed for the whole run. */
    ModelInputs conditioning();
}
