package io.unclip.engine.stage;

/**
 * A request parameter is out of range or inconsistent with the loaded model: the one exception
 * for bad input, thrown by the engine and by every door of the services and the CLI. The message starts
 * with the field path ({@code "decoder.steps: must be between 1 and 1000, got 0"}), as the
 * services' INVALID_ARGUMENT descriptions do.
 */
public class InvalidRequestException extends IllegalArgumentException {
    private final String field;
    private final String reason;

    public InvalidRequestException(String field, String problem) {
        this(field, problem, null);
    }

    public InvalidRequestException(String field, String problem, Throwable cause) {
        super(field + ": " + problem, cause);
        this.field = field;
        this.reason = problem;
    }

    /** The offending field path, e.g. "prompt" or "prior.guidance_scale". */
    public String field() {
        return field;
    }

    /** What is wrong with it, without the field. */
    public String reason() {
        return reason;
    }
}
