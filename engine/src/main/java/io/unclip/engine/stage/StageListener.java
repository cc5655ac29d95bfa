package io.unclip.engine.stage;

/**
 * Receives a stage run's events, on the thread that runs the stage. Implementations must be
 * quick (the sampler waits for them); hand previews off to another thread to encode them.
 */
public interface StageListener {
    /** Ignores everything. */
    StageListener NONE = new StageListener() {
    };

    default void stageStarted(StageStarted event) {
    }

    default void progress(StageProgress event) {
    }

    default void stageFinished(StageTimings timings) {
    }
}
