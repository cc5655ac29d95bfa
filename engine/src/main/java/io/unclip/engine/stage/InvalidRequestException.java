package io.unclip.engine.stage;

/**
 * A request parameter is out of range or inconsistent with the loaded model. The message starts
 * with the field path ({@code "decoder.steps: must be between 1 and 1000, got 0"}), as the
 * services' INVALID_ARGUMENT descriptions do.
 */
public class InvalidRequestException extends IllegalArgumentException {
    private final String field;

    public InvalidRequestException(String field, String problem) {
        super(field + ": " + problem);
        this.field = field;
    }

    public InvalidRequestException(String field, String problem, Throwable cause) {
        super(field + ": " + problem, cause);
        this.field = field;
    }

    /** The offending field path, e.g. "prompt" or "prior.guidance_scale". */
    public String field() {
        return field;
    }
}
