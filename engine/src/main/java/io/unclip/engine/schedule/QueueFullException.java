package io.unclip.engine.schedule;

/** A scheduler's admission queue is full: the request was not taken; try again later. */
public final class QueueFullException extends RuntimeException {
    public QueueFullException(String scheduler, int queued) {
        super(scheduler + " is at capacity (" + queued + " requests waiting); try again later");
    }
}
