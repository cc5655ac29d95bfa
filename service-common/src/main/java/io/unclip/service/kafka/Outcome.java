package io.unclip.service.kafka;

import java.util.Objects;

import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.StageTimings;

/**
 * What a stage run produced: the next stage's task or, from the last stage, the job's result;
 * and this run's timings (sent in the stage_finished event).
 */
public record Outcome(StageTask next, JobResult result, StageTimings timings) {
    public Outcome {
        Objects.requireNonNull(timings, "timings");
        if ((next == null) == (result == null)) {
            throw new IllegalArgumentException("an outcome is either a next task or a result");
        }
    }

    public static Outcome next(StageTask task, StageTimings timings) {
        return new Outcome(task, null, timings);
    }

    public static Outcome done(JobResult result, StageTimings timings) {
        return new Outcome(null, result, timings);
    }
}
