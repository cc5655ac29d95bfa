package io.unclip.service.kafka;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.JobEvent;
import io.unclip.api.v1.StageTask;
import io.opentelemetry.context.Context;
import io.unclip.engine.image.PngCodec;
import io.unclip.service.record.Records;
import io.unclip.service.telemetry.TraceHeaders;

/**
 * Sends job events to unclip.events, keyed by job id, with the event kind in the
 * {@link RecordHeaders#EVENT} header. Progress of a running stage goes through {@link TaskEvents}:
 * throttled, with previews PNG-encoded on this publisher's own thread, latest wins, so the
 * sampler never waits for an encoder, a broker or a client. Every event carries the trace
 * context of its job ({@link TraceHeaders}).
 */
public final class EventPublisher implements AutoCloseable {
    private final Producer<String, byte[]> producer;
    private final String instance;
    private final long progressIntervalNanos;
    private final PngCodec png = PngCodec.withDefaultLimits();
    private final ExecutorService drainer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "unclip-events");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param progressIntervalMs least time between two progress events of a stage run that carry
     *                           no preview (the first and last step are always sent)
     */
    public EventPublisher(Producer<String, byte[]> producer, String instance, long progressIntervalMs) {
        this.producer = producer;
        this.instance = instance;
        this.progressIntervalNanos = TimeUnit.MILLISECONDS.toNanos(progressIntervalMs);
    }

    public String instance() {
        return instance;
    }

    /** Sends an event in the current trace context. */
    public Future<RecordMetadata> publish(JobEvent e) {
        return publish(e, Context.current());
    }

    /** Sends an event in {@code trace} (events sent from another thread than their task's). */
    public Future<RecordMetadata> publish(JobEvent e, Context trace) {
        ProducerRecord<String, byte[]> rec = new ProducerRecord<>(Topics.EVENTS, e.getJobId(), e.toByteArray());
        RecordHeaders.put(rec.headers(), RecordHeaders.EVENT, Records.kind(e.getEvent()));
        TraceHeaders.inject(trace, rec.headers());
        return producer.send(rec);
    }

    public Future<RecordMetadata> publish(String jobId, io.unclip.api.v1.StageName stage, int cascadeStep,
                                          GenerateEvent.Builder event, Context trace) {
        return publish(Records.event(jobId, stage, cascadeStep, event, instance), trace);
    }

    /** Events of one stage run of {@code task}. */
    public TaskEvents forTask(StageTask task) {
        return forTask(task, task.getAttempt());
    }

    /** @param attempt which run of the task this is (1 = first), as stage_started reports it */
    public TaskEvents forTask(StageTask task, int attempt) {
        return new TaskEvents(this, task, attempt);
    }

    long progressIntervalNanos() {
        return progressIntervalNanos;
    }

    PngCodec png() {
        return png;
    }

    void schedule(Runnable drain) {
        drainer.execute(drain);
    }

    @Override
    public void close() {
        drainer.shutdown();
        try {
            drainer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
