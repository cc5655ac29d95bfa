package io.unclip.engine.pipeline;

import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.tensor.Tensor;
import java.security.SecureRandom;

/** Validation shared by the request records, and seed resolution. */
public final class Requests {
    /** Longest prompt, in Unicode code points. */
    public static final int MAX_PROMPT_CHARS = 256;
    public static final int MAX_IMAGES = 8;
    public static final int MAX_PREVIEW_INTERVAL = 1000;
    public static final int MIN_FRAMES = 2;
    public static final int MAX_FRAMES = 32;

    private static final SecureRandom RANDOM = new SecureRandom();

    private Requests() {
    }

    /** A prompt: not blank, at most 256 code points, no control characters but tab and newline. */
    public static void checkPrompt(String field, String prompt) {
        if (prompt == null || prompt.isBlank()) {
            throw new InvalidRequestException(field, "must not be empty");
        }
        int chars = prompt.codePointCount(0, prompt.length());
        if (chars > MAX_PROMPT_CHARS) {
            throw new InvalidRequestException(field, "is " + chars + " characters long, the limit is "
                    + MAX_PROMPT_CHARS);
        }
        prompt.codePoints().filter(c -> Character.isISOControl(c) && c != '\t' && c != '\n').findFirst()
                .ifPresent(c -> {
                    throw new InvalidRequestException(field, "contains the control character "
                            + String.format("U+%04X", c));
                });
    }

    public static void checkRange(String field, long value, long min, long max) {
        if (value < min || value > max) {
            throw new InvalidRequestException(field, "must be between " + min + " and " + max + ", got " + value);
        }
    }

    /** An RGB image tensor {@code [1, 3, H, W]}. */
    public static void checkImage(String field, Tensor image) {
        if (image == null) {
            throw new InvalidRequestException(field, "is required");
        }
        if (image.rank() != 4 || image.dim(0) != 1 || image.dim(1) != 3) {
            throw new InvalidRequestException(field, "must be one RGB image [1, 3, H, W], got " + image);
        }
    }

    /** The request's seed, or a fresh random one (any 64-bit value). */
    public static long seedOrRandom(Long seed) {
        return seed != null ? seed : RANDOM.nextLong();
    }

    /** A seed as users see it: unsigned decimal, 0 .. 2^64 - 1. */
    public static String seedText(long seed) {
        return Long.toUnsignedString(seed);
    }
}
