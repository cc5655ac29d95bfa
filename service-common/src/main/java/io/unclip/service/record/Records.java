package io.unclip.service.record;

import java.time.Instant;

import com.google.protobuf.Timestamp;

import io.unclip.api.v1.Failure;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.JobEvent;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;

/** Small builders for the pipeline's records. */
public final class Records {
    private Records() {
    }

    /** Longest Failure.message (records.proto). */
    public static final int MAX_FAILURE_MESSAGE = 1024;
    /** Longest DeadLetter.reason. */
    public static final int MAX_REASON = 4096;

    public static Timestamp now() {
        return timestamp(Instant.now());
    }

    public static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }

    public static Instant instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    public static String cut(String s, int max) {
        if (s == null) {
            return "";
        }
        return s.length() <= max ? s : s.substring(0, max - 3) + "...";
    }

    public static Failure failure(FailureCode code, String message, StageName stage, String field, boolean retryable) {
        return Failure.newBuilder()
                .setCode(code)
                .setMessage(cut(message, MAX_FAILURE_MESSAGE))
                .setStage(stage == null ? StageName.STAGE_NAME_UNSPECIFIED : stage)
                .setField(field == null ? "" : field)
                .setRetryable(retryable)
                .build();
    }

    /** A FAILED (or, with code CANCELLED_BY_CLIENT, CANCELLED) result. */
    public static JobResult failedResult(String jobId, Failure failure, StageTask task) {
        JobResult.Builder r = JobResult.newBuilder()
                .setJobId(jobId)
                .setStatus(failure.getCode() == FailureCode.CANCELLED_BY_CLIENT ? JobState.CANCELLED : JobState.FAILED)
                .setError(failure)
                .setFinishedAt(now());
        if (task != null) {
            r.addAllTimings(task.getTimingsList());
            if (task.hasParams()) {
                r.setParams(task.getParams());
            }
            if (task.hasRequest()) {
                r.setSeed(seedOf(task.getRequest()));
            }
        }
        return r.build();
    }

    /** The seed of a job that makes images (0 for one that has none, e.g. a caption job). */
    public static long seedOf(JobRequest r) {
        return switch (r.getRequestCase()) {
            case GENERATE -> r.getGenerate().getSeed();
            case VARIATIONS -> r.getVariations().getSeed();
            case INTERPOLATE -> r.getInterpolate().getSeed();
            default -> 0;
        };
    }

    /** A job event: {@code event} with its job id and time filled in. */
    public static JobEvent event(String jobId, StageName stage, int cascadeStep, GenerateEvent.Builder event,
                                 String producer) {
        Timestamp now = now();
        return JobEvent.newBuilder()
                .setJobId(jobId)
                .setStage(stage == null ? StageName.STAGE_NAME_UNSPECIFIED : stage)
                .setCascadeStep(cascadeStep)
                .setEvent(event.setJobId(jobId).setTime(now))
                .setTimestamp(now)
                .setProducer(cut(producer, 128))
                .build();
    }

    /** The name of an event's kind, as in the {@link io.unclip.service.kafka.RecordHeaders#EVENT} header. */
    public static String kind(GenerateEvent e) {
        return switch (e.getEventCase()) {
            case ACCEPTED -> "accepted";
            case STAGE_STARTED -> "stage_started";
            case PROGRESS -> "progress";
            case STAGE_FINISHED -> "stage_finished";
            case RESULT -> "result";
            case FAILED -> "failed";
            case CANCELLED -> "cancelled";
            default -> "unknown";
        };
    }

    /** The key that makes a stage output idempotent: (job id, stage, cascade step). */
    public static String taskKey(StageTask t) {
        return t.getJobId() + "/" + t.getStage().name() + "/" + t.getCascadeStep();
    }
}
