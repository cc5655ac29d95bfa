package io.unclip.service.stage;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Short random ids for unexpected failures: the client's message names the id, the log line
 * with the stack trace names it too, and neither the exception nor its message reach the client.
 */
public final class ErrorIds {
    private static final SecureRandom IDS = new SecureRandom();

    private ErrorIds() {
    }

    /** A fresh id, 8 hex digits. */
    public static String next() {
        byte[] b = new byte[4];
        IDS.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
