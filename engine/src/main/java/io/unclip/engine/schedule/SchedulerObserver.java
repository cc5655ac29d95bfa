package io.unclip.engine.schedule;

/** Where a scheduler reports what it does, e.g. to Prometheus histograms. Called on its thread. */
public interface SchedulerObserver {
    SchedulerObserver NONE = new SchedulerObserver() {
    };

    /** A scheduler started; {@code stats} reads its totals and what is active and queued now. */
    default void created(String scheduler, java.util.function.Supplier<SchedulerStats> stats) {
    }

    /** One model call of {@code rows} rows that took {@code nanos}. */
    default void modelCall(String scheduler, int rows, long nanos) {
    }

    /** A request admitted after waiting {@code nanos} in the queue. */
    default void admitted(String scheduler, long nanos) {
    }

    /** A request refused because the queue was full. */
    default void refused(String scheduler) {
    }
}
