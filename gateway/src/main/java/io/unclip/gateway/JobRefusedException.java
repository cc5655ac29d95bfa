package io.unclip.gateway;

/**
 * Why the gateway refuses a call before any job event (bad input is
 * {@link io.unclip.engine.stage.InvalidRequestException} instead). Each door maps the reason to its own code: gRPC
 * NOT_FOUND / UNAVAILABLE / RESOURCE_EXHAUSTED / UNIMPLEMENTED, HTTP 404 / 503 / 429 / 501.
 */
public final class JobRefusedException extends RuntimeException {
    public enum Reason {
        /** No job of that id is known here (never existed, or past its retention). */
        NOT_FOUND,
        /** The pipeline is not running (Kafka not configured or not reached yet). */
        UNAVAILABLE,
        /** unclip.gateway.max-streams job streams are open already. */
        TOO_MANY_STREAMS,
        /** A valid request this deployment does not serve. */
        UNIMPLEMENTED
    }

    private final Reason reason;

    public JobRefusedException(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
