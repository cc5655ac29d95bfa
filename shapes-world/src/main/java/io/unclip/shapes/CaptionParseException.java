package io.unclip.shapes;

/** A caption or prompt outside the closed Shapes-World grammar or vocabulary. */
public class CaptionParseException extends IllegalArgumentException {
    public CaptionParseException(String message) {
        super(message);
    }
}
