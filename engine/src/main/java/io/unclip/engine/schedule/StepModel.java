package io.unclip.engine.schedule;

import io.unclip.engine.tensor.Tensor;
import java.util.List;

/** A diffusion model called on the rows of several requests at once. */
public interface StepModel {
    /**
     * Runs the model once on the concatenated rows of {@code batch}, in order.
     *
     * @return the prediction [rows, C', ...]; read before the next call, so it may be reused
     */
    Tensor predict(List<? extends StepRows> batch, int rows);

    /** Whether rows at different timesteps may share a call (false for a scalar timestep input). */
    default boolean perRowTimesteps() {
        return true;
    }
}
