package io.unclip.service.kafka;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.unclip.api.v1.StageName;

/**
 * A stage worker's metrics (Prometheus names on /q/metrics). Distributions are histograms with
 * fixed buckets ({@code _bucket{le=...}}), so that replicas aggregate, which summaries' quantiles
 * do not:
 * <ul>
 *   <li>{@code unclip_stage_latency_seconds{stage}}: task start to output written</li>
 *   <li>{@code unclip_stage_queue_seconds{stage}}: time a task waited in its topic</li>
 *   <li>{@code unclip_stage_steps_per_second{stage}}: sampling steps per second of a run</li>
 *   <li>{@code unclip_stage_batch_size{stage}}: images per run</li>
 *   <li>{@code unclip_worker_records_total{stage, outcome}}: succeeded, dead_lettered, failed,
 *       retried, cancelled, duplicate, abandoned</li>
 *   <li>{@code unclip_worker_consumer_lag{stage}}: records behind the end of this replica's
 *       partitions</li>
 *   <li>{@code kafka_consumer_*} / {@code kafka_producer_*}: the worker's Kafka clients' own
 *       metrics ({@link #bind}), told apart by their client.id (which names the stage); no tag
 *       of ours, as every Kafka client meter of one name must have the same tag keys</li>
 * </ul>
 */
public final class WorkerMetrics {
    // a stage run: milliseconds (text encoder) to minutes (a large upsampler on a CPU)
    private static final Duration[] LATENCY = durations(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300);
    private static final Duration[] QUEUE = durations(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600);
    private static final double[] STEPS_PER_SECOND = {0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
    private static final double[] BATCH = {1, 2, 4, 8, 16, 32, 64};

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
                .description("Stage run: task start to output written").serviceLevelObjectives(LATENCY)
                .register(this.registry);
        this.queue = Timer.builder("unclip.stage.queue").tag("stage", this.stage)
                .description("Time a task waited in its topic").serviceLevelObjectives(QUEUE).register(this.registry);
        this.stepsPerSecond = DistributionSummary.builder("unclip.stage.steps.per.second").tag("stage", this.stage)
                .description("Sampling steps per second of a stage run").serviceLevelObjectives(STEPS_PER_SECOND)
                .register(this.registry);
        this.batch = DistributionSummary.builder("unclip.stage.batch.size").tag("stage", this.stage)
                .description("Images per stage run").serviceLevelObjectives(BATCH).register(this.registry);
        this.registry.gauge("unclip.worker.consumer.lag", java.util.List.of(io.micrometer.core.instrument.Tag.of("stage",
                this.stage)), lag);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** Publishes a consumer's own metrics until the returned binding is closed (before the consumer). */
    public KafkaClientMetrics bind(Consumer<?, ?> consumer) {
        KafkaClientMetrics m = new KafkaClientMetrics(consumer);
        m.bindTo(registry);
        return m;
    }

    /** Publishes a producer's own metrics until the returned binding is closed (before the producer). */
    public KafkaClientMetrics bind(Producer<?, ?> producer) {
        KafkaClientMetrics m = new KafkaClientMetrics(producer);
        m.bindTo(registry);
        return m;
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

    private static Duration[] durations(double... seconds) {
        Duration[] d = new Duration[seconds.length];
        for (int i = 0; i < seconds.length; i++) {
            d[i] = Duration.ofNanos((long) (seconds[i] * 1e9));
        }
        return d;
    }
}
