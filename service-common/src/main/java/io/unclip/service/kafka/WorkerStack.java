package io.unclip.service.kafka;

import java.nio.file.Path;
import java.time.Duration;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.opentelemetry.api.OpenTelemetry;

/**
 * A {@link StageWorker} with the Kafka clients it needs: one producer (outputs, events, dead
 * letters, results), the event publisher and the cancellation tracker. Plain Java: the services'
 * WorkerRuntime and the tests assemble workers with it.
 */
public final class WorkerStack implements AutoCloseable {
    private final Producer<String, byte[]> producer;
    private final EventPublisher events;
    private final CancellationTracker cancellations;
    private final StageWorker worker;
    private final KafkaClientMetrics producerMetrics;

    private WorkerStack(Producer<String, byte[]> producer, EventPublisher events, CancellationTracker cancellations,
                        StageWorker worker, KafkaClientMetrics producerMetrics) {
        this.producer = producer;
        this.producerMetrics = producerMetrics;
        this.events = events;
        this.cancellations = cancellations;
        this.worker = worker;
    }

    /** As {@link #start(KafkaSettings, StageWorker.Config, StageHandler, Path, long, MeterRegistry, Duration, OpenTelemetry)}, its spans unrecorded. */
    public static WorkerStack start(KafkaSettings settings, StageWorker.Config config, StageHandler handler,
                                    Path resultsDir, long progressIntervalMs, MeterRegistry registry,
                                    Duration cancelLookback) {
        return start(settings, config, handler, resultsDir, progressIntervalMs, registry, cancelLookback,
                OpenTelemetry.noop());
    }

    /**
     * Starts a worker: its cancellation tracker first (reading unclip.events from
     * {@code cancelLookback} ago), then the consumer. Its task spans go to {@code telemetry}
     * (trace context is passed on from input to output records either way).
     */
    public static WorkerStack start(KafkaSettings settings, StageWorker.Config config, StageHandler handler,
                                    Path resultsDir, long progressIntervalMs, MeterRegistry registry,
                                    Duration cancelLookback, OpenTelemetry telemetry) {
        String label = config.stage().name().toLowerCase(java.util.Locale.ROOT) + "-" + config.instance();
        Producer<String, byte[]> producer = new KafkaProducer<>(settings.producer("unclip-" + label));
        WorkerMetrics metrics = new WorkerMetrics(registry, config.stage());
        KafkaClientMetrics producerMetrics = metrics.bind(producer);
        EventPublisher events = new EventPublisher(producer, config.instance(), progressIntervalMs);
        CancellationTracker cancellations = new CancellationTracker(settings, "unclip-cancellations-" + label,
                cancelLookback, Duration.ofHours(1)).start();
        try {
            if (!cancellations.awaitReady(Duration.ofSeconds(60))) {
                throw new IllegalStateException("the cancellation tracker did not start within 60 s: "
                        + cancellations.failure());
            }
            StageWorker worker = new StageWorker(settings, config, handler, producer, events,
                    new ResultPublisher(producer, resultsDir), cancellations, metrics, telemetry).start();
            return new WorkerStack(producer, events, cancellations, worker, producerMetrics);
        } catch (RuntimeException | InterruptedException e) {
            cancellations.close();
            events.close();
            producerMetrics.close();
            producer.close(Duration.ofSeconds(2));
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            throw (RuntimeException) e;
        }
    }

    public StageWorker worker() {
        return worker;
    }

    public CancellationTracker cancellations() {
        return cancellations;
    }

    public Producer<String, byte[]> producer() {
        return producer;
    }

    @Override
    public void close() {
        worker.close();
        cancellations.close();
        events.close();
        producerMetrics.close();
        producer.close(Duration.ofSeconds(5));
    }
}
