package io.unclip.service.kafka;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.unclip.api.v1.StageName;

/**
 * A stage worker's metrics (Prometheus names on /q/metrics):
 * <ul>
 *   <li>{@code unclip_stage_latency_seconds{stage}}: task start to output written</li>
 *   <li>{@code unclip_stage_queue_seconds{stage}}: time a task waited in its topic</li>
 *   <li>{@code unclip_stage_steps_per_second{stage}}: sampling steps per second of a run</li>
 *   <li>{@code unclip_stage_batch_size{stage}}: images per run</li>
 *   <li>{@code unclip_worker_records_total{stage, outcome}}: succeeded, dead_lettered, failed,
 *       retried, cancelled, duplicate, abandoned</li>
 *   <li>{@code unclip_worker_consumer_lag{stage}}: records behind the end of this replica's
 *       partitions</li>
 * </ul>
 */
public final class WorkerMetrics {
    private final MeterRegistry registry;
    private final String stage;
    private final Timer latency;
    private final Timer queue;
    private final DistributionSummary stepsPerSecond;
    private final DistributionSummary batch;
    private final AtomicLong lag = new AtomicLong();

    public WorkerMetrics(MeterRegistry registry, StageName stage) {
        this.registry = registry == null ? new SimpleMeterRegistry() : registry;
        this.stage = stage.name().toLowerCase(java.util.Locale.ROOT);
        this.latency = Timer.builder("unclip.stage.latency").tag("stage", this.stage)
                .description("Stage run: task start to output written").publishPercentiles(0.5, 0.95)
                .register(this.registry);
        this.queue = Timer.builder("unclip.stage.queue").tag("stage", this.stage)
                .description("Time a task waited in its topic").register(this.registry);
        this.stepsPerSecond = DistributionSummary.builder("unclip.stage.steps.per.second").tag("stage", this.stage)
                .description("Sampling steps per second of a stage run").register(this.registry);
        this.batch = DistributionSummary.builder("unclip.stage.batch.size").tag("stage", this.stage)
                .description("Images per stage run").register(this.registry);
        this.registry.gauge("unclip.worker.consumer.lag", java.util.List.of(io.micrometer.core.instrument.Tag.of("stage",
                this.stage)), lag);
    }

    public void outcome(String outcome) {
        registry.counter("unclip.worker.records", "stage", stage, "outcome", outcome).increment();
    }

    public void ran(long wallNanos, int steps, int images, long queueMs) {
        latency.record(wallNanos, TimeUnit.NANOSECONDS);
        queue.record(Math.max(0, queueMs), TimeUnit.MILLISECONDS);
        if (steps > 0 && wallNanos > 0) {
            stepsPerSecond.record(steps / (wallNanos / 1e9));
        }
        batch.record(images);
    }

    public void lag(long records) {
        lag.set(records);
    }

    public long count(String outcome) {
        var c = registry.find("unclip.worker.records").tags("stage", stage, "outcome", outcome).counter();
        return c == null ? 0 : (long) c.count();
    }
}
