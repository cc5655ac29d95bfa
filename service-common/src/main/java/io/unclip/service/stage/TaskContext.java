package io.unclip.service.stage;

import java.util.function.BooleanSupplier;

import io.unclip.engine.tensor.Tensor;

/** What a {@link StageHandler} gets besides its task: cancellation and progress reporting. */
public interface TaskContext {
    /** True once the job is cancelled or this replica is stopping; stop within one step. */
    BooleanSupplier cancellation();

    default boolean cancelled() {
        return cancellation().getAsBoolean();
    }

    /**
     * A diffusion step finished. Cheap and non-blocking (the sampler's thread calls it): events
     * are throttled and previews encoded on another thread, latest wins.
     *
     * @param step    steps done, 1..total
     * @param total   steps of the run
     * @param preview x0 prediction of every image ([N, C, H, W] in [-1, 1], a copy the callee may
     *                keep), or null
     */
    void progress(int step, int total, Tensor preview);

    /** The preview interval the job asked for (0 = no previews); also 0 when it wants no progress. */
    int previewInterval();

    /** Time the task waited in its topic before this worker took it, milliseconds. */
    long queueMs();
}
