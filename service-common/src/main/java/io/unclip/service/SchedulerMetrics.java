package io.unclip.service;

import java.time.Duration;
import java.util.function.Supplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.unclip.engine.schedule.SchedulerObserver;
import io.unclip.engine.schedule.SchedulerStats;

/**
 * A stage's step schedulers on /q/metrics, as Prometheus histograms with fixed buckets (so that
 * replicas aggregate, which summaries' quantiles do not):
 * <ul>
 *   <li>{@code unclip_scheduler_rows_per_call{scheduler}}: model rows of each call (1 to 256)</li>
 *   <li>{@code unclip_scheduler_step_seconds{scheduler}}: each model call's time</li>
 *   <li>{@code unclip_scheduler_queue_wait_seconds{scheduler}}: submission to admission</li>
 *   <li>{@code unclip_scheduler_requests_refused_total{scheduler}}: refused, the queue being full</li>
 *   <li>{@code unclip_scheduler_active_requests} / {@code unclip_scheduler_queued_requests}: now</li>
 * </ul>
 */
public final class SchedulerMetrics implements SchedulerObserver {
    private static final double[] ROWS = {1, 2, 4, 8, 16, 32, 64, 128, 256};
    private static final Duration[] STEP = durations(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5);
    private static final Duration[] WAIT = durations(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60);

    private final MeterRegistry registry;

    public SchedulerMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    // strong references: the stats supplier is held by nothing else, and a weak gauge reads NaN once it is collected
    @Override
    public void created(String scheduler, Supplier<SchedulerStats> stats) {
        Gauge.builder("unclip.scheduler.active.requests", stats, s -> s.get().active()).tag("scheduler", scheduler)
                .description("Requests sampling now").strongReference(true).register(registry);
        Gauge.builder("unclip.scheduler.queued.requests", stats, s -> s.get().queued()).tag("scheduler", scheduler)
                .description("Requests waiting for admission now").strongReference(true).register(registry);
    }

    @Override
    public void modelCall(String scheduler, int rows, long nanos) {
        DistributionSummary.builder("unclip.scheduler.rows.per.call").tag("scheduler", scheduler)
                .description("Model rows of one batched call").serviceLevelObjectives(ROWS).register(registry)
                .record(rows);
        Timer.builder("unclip.scheduler.step").tag("scheduler", scheduler)
                .description("Time of one batched model call").serviceLevelObjectives(STEP).register(registry)
                .record(Duration.ofNanos(nanos));
    }

    @Override
    public void admitted(String scheduler, long nanos) {
        Timer.builder("unclip.scheduler.queue.wait").tag("scheduler", scheduler)
                .description("Submission to admission").serviceLevelObjectives(WAIT).register(registry)
                .record(Duration.ofNanos(nanos));
    }

    @Override
    public void refused(String scheduler) {
        Counter.builder("unclip.scheduler.requests.refused").tag("scheduler", scheduler)
                .description("Requests refused: the admission queue was full").register(registry).increment();
    }

    private static Duration[] durations(double... seconds) {
        Duration[] d = new Duration[seconds.length];
        for (int i = 0; i < seconds.length; i++) {
            d[i] = Duration.ofNanos((long) (seconds[i] * 1e9));
        }
        return d;
    }
}
