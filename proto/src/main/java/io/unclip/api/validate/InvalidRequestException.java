package io.unclip.api.validate;

/**
 * A request broke a limit of the contract. {@link #field()} is the path of the offending field
 * ("decoder.guidance_scale", "prompts[2]"), and the message reads "field: reason".
 */
public final class InvalidRequestException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String field;
    private final String reason;

    public InvalidRequestException(String field, String reason) {
        super(field + ": " + reason, null, false, false);
        this.field = field;
        this.reason = reason;
    }

    /** Path of the offending field, e.g. {@code "prior.steps"}. */
    public String field() {
        return field;
    }

    /** What is wrong with it, without the field. */
    public String reason() {
        return reason;
    }
}
