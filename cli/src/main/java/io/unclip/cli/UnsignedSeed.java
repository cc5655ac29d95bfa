package io.unclip.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The one seed rule of the CLI: an unsigned 64-bit integer, 0 .. 18446744073709551615, held in a
 * {@code long} with the same bits (the engine's and the API's {@code uint64}). Written as plain
 * decimal digits: no sign, no spaces, so {@code -1} is refused rather than read as 2^64 - 1. The
 * picocli converter of every {@code --seed}, and the reader of {@code "seed"} in prompts files.
 */
public final class UnsignedSeed implements ITypeConverter<Long> {
    /** The largest seed, as text. */
    public static final String MAX = Long.toUnsignedString(-1L);

    @Override
    public Long convert(String value) {
        try {
            return parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    /**
     * @throws IllegalArgumentException "'TEXT' is not a seed (an integer from 0 to ...)"
     */
    public static long parse(String text) {
        // Long.parseUnsignedLong alone would take a leading '+'; a '-' it refuses, but say why here
        if (text == null || text.isEmpty() || text.length() > MAX.length()
                || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw notASeed("'" + text + "'");
        }
        try {
            return Long.parseUnsignedLong(text);
        } catch (NumberFormatException e) {
            throw notASeed("'" + text + "'");
        }
    }

    /**
     * A JSON {@code "seed"}: an integer or a string of digits, either in 0 .. 2^64 - 1.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static long fromJson(JsonNode seed) {
        if (seed.isTextual()) {
            return parse(seed.asText());
        }
        if (seed.isIntegralNumber()) {
            BigInteger v = seed.bigIntegerValue();
            if (v.signum() >= 0 && v.bitLength() <= 64) {
                return v.longValue();
            }
        }
        throw notASeed(seed.toString());
    }

    private static IllegalArgumentException notASeed(String shown) {
        return new IllegalArgumentException(shown + " is not a seed (an integer from 0 to " + MAX + ")");
    }
}
