package io.unclip.service.kafka;

/** A stage run stopped because its job was cancelled or its replica is stopping. */
public class TaskCancelledException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TaskCancelledException(String message) {
        super(message, null, false, false);
    }
}
