package io.unclip.service.record;

import io.unclip.api.v1.FailureCode;

/**
 * A record that cannot be processed: unparseable, for another stage, or failing validation. The
 * worker dead-letters it with {@link #getMessage()} as the reason and fails the job with the same
 * code and message (when its job id is known).
 */
public class TaskRejectedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final FailureCode code;
    private final String field;
    private final String jobId;

    public TaskRejectedException(FailureCode code, String field, String message, String jobId) {
        super(message, null, false, false);
        this.code = code;
        this.field = field == null ? "" : field;
        this.jobId = jobId;
    }

    /** An invalid request: "field: reason". */
    public static TaskRejectedException invalid(String field, String message, String jobId) {
        return new TaskRejectedException(FailureCode.INVALID_REQUEST, field, message, jobId);
    }

    /**
     * A job id already submitted with a different request: this submission is refused, the job
     * that holds the id goes on (its result is not this one; see {@link FailureCode#ALREADY_EXISTS}).
     */
    public static TaskRejectedException alreadyExists(String jobId, String message) {
        return new TaskRejectedException(FailureCode.ALREADY_EXISTS, "job_id", message, jobId);
    }

    /** A record that does not parse or does not belong here. */
    public static TaskRejectedException unreadable(String message, String jobId) {
        return new TaskRejectedException(FailureCode.DEAD_LETTERED, "", message, jobId);
    }

    public FailureCode code() {
        return code;
    }

    public String field() {
        return field;
    }

    /** The job id, if known; null otherwise. */
    public String jobId() {
        return jobId;
    }
}
