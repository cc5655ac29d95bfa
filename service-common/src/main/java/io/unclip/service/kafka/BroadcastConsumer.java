package io.unclip.service.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.jboss.logging.Logger;

/**
 * Reads every partition of some topics on its own thread and hands each record to a callback:
 * every instance sees every record (no consumer group; the equivalent of a unique group per
 * instance, without group coordination). Starts at the end of each partition, or
 * {@code lookback} before now. The records of each poll are handed over topic by topic, in the
 * order of {@code topics}. {@link #awaitReady} returns once the start positions are fixed:
 * a record produced after that is seen.
 */
public final class BroadcastConsumer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BroadcastConsumer.class);

    private final KafkaSettings settings;
    private final String clientId;
    private final List<String> topics;
    private final Duration lookback;
    private final Consumer<ConsumerRecord<String, byte[]>> callback;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final Thread thread;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile boolean running = true;
    private volatile Throwable failure;

    public BroadcastConsumer(KafkaSettings settings, String clientId, List<String> topics, Duration lookback,
                             Consumer<ConsumerRecord<String, byte[]>> callback) {
        this.settings = settings;
        this.clientId = clientId;
        this.topics = List.copyOf(topics);
        this.lookback = lookback;
        this.callback = callback;
        this.thread = new Thread(this::run, clientId);
        this.thread.setDaemon(true);
    }

    public BroadcastConsumer start() {
        thread.start();
        return this;
    }

    /** Whether the consumer is positioned (records produced from now on will be seen). */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean ready() {
        return ready.getCount() == 0;
    }

    /** Why the consumer stopped, if it did. */
    public Throwable failure() {
        return failure;
    }

    private void run() {
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(settings.standaloneConsumer(clientId))) {
            consumer = c;
            position(c, topics, lookback);
            ready.countDown();
            while (running) {
                var batch = c.poll(Duration.ofMillis(500));
                for (String topic : topics) { // in the order given: e.g. a job's events before its result
                    for (ConsumerRecord<String, byte[]> rec : batch.records(topic)) {
                        try {
                            callback.accept(rec);
                        } catch (RuntimeException e) {
                            LOG.warnf(e, "%s: record %s-%d@%d not handled", clientId, rec.topic(), rec.partition(),
                                    rec.offset());
                        }
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (Throwable e) {
            failure = e;
            if (running) {
                LOG.errorf(e, "%s stopped", clientId);
            }
        } finally {
            consumer = null;
        }
    }

    /** Assigns every partition of {@code topics} and seeks to the end, or to {@code lookback} before now. */
    private static List<TopicPartition> position(KafkaConsumer<String, byte[]> c, List<String> topics,
                                                 Duration lookback) {
        List<TopicPartition> parts = new ArrayList<>();
        for (String topic : topics) {
            List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException("topic " + topic + " does not exist");
            }
            infos.forEach(i -> parts.add(new TopicPartition(i.topic(), i.partition())));
        }
        c.assign(parts);
        if (lookback.isZero()) {
            c.seekToEnd(parts);
        } else {
            Map<TopicPartition, Long> times = new HashMap<>();
            long since = System.currentTimeMillis() - lookback.toMillis();
            parts.forEach(p -> times.put(p, since));
            Map<TopicPartition, OffsetAndTimestamp> offsets = c.offsetsForTimes(times, Duration.ofSeconds(30));
            List<TopicPartition> toEnd = new ArrayList<>();
            for (TopicPartition p : parts) {
                OffsetAndTimestamp o = offsets.get(p);
                if (o == null) {
                    toEnd.add(p);
                } else {
                    c.seek(p, o.offset());
                }
            }
            c.seekToEnd(toEnd);
        }
        for (TopicPartition p : parts) {
            c.position(p, Duration.ofSeconds(30)); // resolve now: later records are never skipped
        }
        return parts;
    }

    /**
     * Hands {@code callback} every record of {@code topics} from {@code lookback} before now up to the end each
     * partition had when called, on this thread, then returns how many there were: catching up on a log before
     * following it live.
     *
     * @throws IllegalStateException when the end is not reached within {@code timeout}
     */
    public static long replay(KafkaSettings settings, String clientId, List<String> topics, Duration lookback,
                              Duration timeout, Consumer<ConsumerRecord<String, byte[]>> callback) {
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(settings.standaloneConsumer(clientId))) {
            List<TopicPartition> parts = position(c, topics, lookback);
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + timeout.toNanos();
            long n = 0;
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(clientId + ": " + topics + " not read to the end within " + timeout);
                }
                for (ConsumerRecord<String, byte[]> rec : c.poll(Duration.ofMillis(500))) {
                    if (rec.offset() < end.get(new TopicPartition(rec.topic(), rec.partition()))) {
                        try {
                            callback.accept(rec);
                            n++;
                        } catch (RuntimeException e) {
                            LOG.warnf(e, "%s: record %s-%d@%d not handled", clientId, rec.topic(), rec.partition(),
                                    rec.offset());
                        }
                    }
                }
            }
            return n;
        }
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
