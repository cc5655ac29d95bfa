package io.unclip.engine.schedule;

/** What shares one model's calls among requests: a {@link StepScheduler} or a {@link CallBatcher}. */
public interface Batching extends AutoCloseable {
    /** The model's name, as metrics and {@code unclip load} report it. */
    String name();

    SchedulerConfig config();

    SchedulerStats stats();

    @Override
    void close();
}
