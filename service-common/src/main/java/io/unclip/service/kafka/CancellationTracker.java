package io.unclip.service.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import com.google.protobuf.InvalidProtocolBufferException;

import io.unclip.api.v1.JobEvent;

/**
 * The cancelled job ids this replica knows of: it reads every partition of unclip.events
 * (starting {@code lookback} in the past, so a job cancelled while this replica was down or
 * queued behind others is still known) and keeps the ids of "cancelled" events, recognised by
 * their header without parsing the rest. Entries expire after {@code retention}.
 */
public final class CancellationTracker implements AutoCloseable {
    private final Map<String, Long> cancelled = new ConcurrentHashMap<>();
    private final long retentionMs;
    private final BroadcastConsumer consumer;
    private volatile long lastSweep = System.currentTimeMillis();

    public CancellationTracker(KafkaSettings settings, String clientId, Duration lookback, Duration retention) {
        this.retentionMs = retention.toMillis();
        this.consumer = new BroadcastConsumer(settings, clientId, List.of(Topics.EVENTS), lookback, this::onRecord);
    }

    public CancellationTracker start() {
        consumer.start();
        return this;
    }

    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return consumer.awaitReady(timeout);
    }

    /** Why the tracker's consumer stopped, if it did. */
    public Throwable failure() {
        return consumer.failure();
    }

    public boolean isCancelled(String jobId) {
        return cancelled.containsKey(jobId);
    }

    /** Records a cancellation seen by other means (e.g. a gRPC caller that went away). */
    public void cancel(String jobId) {
        cancelled.put(jobId, System.currentTimeMillis());
    }

    private void onRecord(ConsumerRecord<String, byte[]> rec) {
        String kind = RecordHeaders.text(rec.headers(), RecordHeaders.EVENT);
        if ("cancelled".equals(kind) && rec.key() != null) {
            cancel(rec.key());
        } else if (kind == null && rec.value() != null) {
            try {
                JobEvent e = JobEvent.parseFrom(rec.value());
                if (e.getEvent().hasCancelled()) {
                    cancel(e.getJobId());
                }
            } catch (InvalidProtocolBufferException ignored) {
                // not an event; nothing to track
            }
        }
        long now = System.currentTimeMillis();
        if (now - lastSweep > 60_000) {
            lastSweep = now;
            cancelled.values().removeIf(t -> now - t > retentionMs);
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
