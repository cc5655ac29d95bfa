package io.unclip.engine.onnx;

/** A model could not be loaded or run; the message names the model and, where known, the tensor. */
public class InferenceException extends RuntimeException {
    public InferenceException(String message) {
        super(message);
    }

    public InferenceException(String message, Throwable cause) {
        super(message, cause);
    }
}
