package io.unclip.cli;

/** The exit statuses of the {@code unclip} command. */
public final class ExitCodes {
    /** Everything worked. */
    public static final int OK = 0;
    /** The run failed (inference, writing output), or some lines of a batch failed. */
    public static final int FAILED = 1;
    /** Bad input: usage, an invalid request value, an unreadable or rejected image. */
    public static final int BAD_INPUT = 2;
    /** The model bundle is missing or invalid. */
    public static final int BAD_BUNDLE = 3;
    /** Stopped by Ctrl-C (SIGINT): 128 + 2, what a shell reports for a process SIGINT ended. */
    public static final int INTERRUPTED = 130;

    private ExitCodes() {
    }
}
