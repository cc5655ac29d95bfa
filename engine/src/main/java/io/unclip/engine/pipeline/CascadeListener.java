package io.unclip.engine.pipeline;

import io.unclip.engine.stage.StageListener;

/**
 * Events of a cascade run, in order: {@link #started}, then for each stage
 * {@code stageStarted}, {@code progress} (each step, with a preview when asked),
 * {@code stageFinished} (timings), then {@link #result}. Called on the running thread.
 */
public interface CascadeListener extends StageListener {
    CascadeListener NONE = new CascadeListener() {
    };

    /** The run was accepted: its mode, resolved seed (random when the request had none), size. */
    default void started(JobStarted job) {
    }

    /** Something the caller should know but that did not stop the run (e.g. a prompt cut to fit). */
    default void warning(String message) {
    }

    /** The run finished. */
    default void result(GenerationResult result) {
    }
}
