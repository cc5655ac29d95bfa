package io.unclip.service.kafka;

import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.service.record.TaskRejectedException;
import io.unclip.service.stage.TaskContext;

/**
 * Runs one stage on one task: the stage-specific part of a {@link StageWorker} (the Kafka part is
 * the worker's). Called on the worker's runner thread, never on an event loop.
 *
 * <p>Must be deterministic: the same task gives the same output (same seed derivation, same
 * bytes), so a redelivered task cannot yield a different result.
 */
public interface StageHandler {
    /** The stage this handler runs; tasks for another stage are dead-lettered. */
    StageName stage();

    /**
     * Runs the task.
     *
     * @return the next stage's task, or the job's result when this was the last stage
     * @throws TaskRejectedException the task is invalid (dead-lettered, the job failed)
     * @throws io.unclip.engine.diffusion.SamplingCancelledException or
     *         {@link TaskCancelledException} when {@link TaskContext#cancelled()} turned true
     * @throws Exception anything else is a stage error: the task is retried (attempt + 1) up to
     *         the worker's limit, then the job fails with STAGE_ERROR
     */
    Outcome handle(StageTask task, TaskContext ctx) throws Exception;
}
