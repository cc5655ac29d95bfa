package io.unclip.engine.schedule;

import java.time.Duration;

/**
 * How a {@link StepScheduler} admits requests and batches their rows.
 *
 * @param maxRows       most model rows in one call; a step of more active rows makes several
 *                      calls (a request's rows stay in one call; a request with more runs alone)
 * @param maxActiveRows most rows of the requests sampling at once; more wait to be admitted
 *                      (the first request is admitted whatever its rows)
 * @param admissionWait how long an idle scheduler waits for more requests before its first step
 *                      (0 = start at once)
 * @param maxQueued     requests that may wait for admission; one more is refused
 * @param deadlines     admit the earliest deadline first (requests without one last, FIFO among
 *                      equals); false = plain FIFO
 */
public record SchedulerConfig(int maxRows, int maxActiveRows, Duration admissionWait, int maxQueued,
                              boolean deadlines) {
    public static final SchedulerConfig DEFAULT = new SchedulerConfig(64, 256, Duration.ZERO, 256, true);

    public SchedulerConfig {
        if (maxRows < 1) {
            throw new IllegalArgumentException("scheduler max rows must be >= 1, got " + maxRows);
        }
        if (maxActiveRows < 1) {
            throw new IllegalArgumentException("scheduler max active rows must be >= 1, got " + maxActiveRows);
        }
        if (admissionWait == null || admissionWait.isNegative()) {
            throw new IllegalArgumentException("admission wait must be >= 0, got " + admissionWait);
        }
        if (maxQueued < 0) {
            throw new IllegalArgumentException("scheduler queue size must be >= 0, got " + maxQueued);
        }
    }

    public SchedulerConfig withMaxRows(int rows) {
        return new SchedulerConfig(rows, maxActiveRows, admissionWait, maxQueued, deadlines);
    }

    public SchedulerConfig withMaxActiveRows(int rows) {
        return new SchedulerConfig(maxRows, rows, admissionWait, maxQueued, deadlines);
    }

    public SchedulerConfig withMaxQueued(int queued) {
        return new SchedulerConfig(maxRows, maxActiveRows, admissionWait, queued, deadlines);
    }

    public SchedulerConfig withAdmissionWait(Duration wait) {
        return new SchedulerConfig(maxRows, maxActiveRows, wait, maxQueued, deadlines);
    }

    public SchedulerConfig withDeadlines(boolean edf) {
        return new SchedulerConfig(maxRows, maxActiveRows, admissionWait, maxQueued, edf);
    }
}
