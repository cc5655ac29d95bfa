package io.unclip.engine.model;

import java.util.OptionalInt;

/**
 * Image sizes of a stage (square images, in pixels). A decoder has only an output size, an
 * upsampler all three, a captioner only an input size.
 */
public record Resolution(OptionalInt input, OptionalInt output, OptionalInt scale) {
}
