package io.unclip.engine.stage;

/**
 * A stage's output holds NaN or infinite values. The models are deterministic, so the same input
 * gives the same output again: this is a property of the request (out-of-range conditioning,
 * typically), not a transient failure, and it is an {@link InvalidRequestException} so that every
 * door answers bad input (INVALID_ARGUMENT, a dead letter at once) instead of returning NaN
 * images as a success or retrying. {@link #field()} names the input that drove the stage.
 */
public final class NonFiniteOutputException extends InvalidRequestException {
    private static final long serialVersionUID = 1L;

    public NonFiniteOutputException(String field, String problem) {
        super(field, problem);
    }
}
