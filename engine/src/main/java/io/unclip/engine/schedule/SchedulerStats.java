package io.unclip.engine.schedule;

/**
 * A scheduler's totals since it started.
 *
 * @param modelCalls model calls made
 * @param modelRows  rows summed over those calls
 * @param admitted   requests admitted
 * @param refused    requests refused (queue full)
 * @param active     requests sampling now
 * @param queued     requests waiting now
 */
public record SchedulerStats(long modelCalls, long modelRows, long admitted, long refused, int active, int queued) {
    /** Mean rows per model call (0 before the first call). */
    public double meanRows() {
        return modelCalls == 0 ? 0 : (double) modelRows / modelCalls;
    }
}
