package io.unclip.engine.image;

/** Input that is not an acceptable PNG: not a PNG at all, corrupt, or over a configured limit. */
public class ImageRejectedException extends IllegalArgumentException {
    public ImageRejectedException(String message) {
        super(message);
    }

    public ImageRejectedException(String message, Throwable cause) {
        super(message, cause);
    }
}
