package io.unclip.service.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/** Reads a topic from the beginning (all partitions, no group) and waits for matching records. */
final class TopicTail implements AutoCloseable {
    private final KafkaConsumer<String, byte[]> consumer;
    private final List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();

    TopicTail(KafkaSettings settings, String topic) {
        var p = settings.standaloneConsumer("tail-" + topic + "-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        consumer = new KafkaConsumer<>(p);
        List<TopicPartition> parts = consumer.partitionsFor(topic).stream()
                .map(i -> new TopicPartition(topic, i.partition())).toList();
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
    }

    /** Waits until {@code n} records matching {@code filter} were seen; returns them. */
    List<ConsumerRecord<String, byte[]>> await(Predicate<ConsumerRecord<String, byte[]>> filter, int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<ConsumerRecord<String, byte[]>> match = seen.stream().filter(filter).toList();
            if (match.size() >= n) {
                return match;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("saw " + match.size() + " of " + n + " matching records in " + timeout
                        + "; all seen: " + seen.size());
            }
            consumer.poll(Duration.ofMillis(100)).forEach(seen::add);
        }
    }

    /** Records matching {@code filter} seen so far, after polling for {@code settle}. */
    List<ConsumerRecord<String, byte[]>> settle(Predicate<ConsumerRecord<String, byte[]>> filter, Duration settle) {
        long deadline = System.nanoTime() + settle.toNanos();
        while (System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(100)).forEach(seen::add);
        }
        return seen.stream().filter(filter).toList();
    }

    static Predicate<ConsumerRecord<String, byte[]>> key(String jobId) {
        return r -> jobId.equals(r.key());
    }

    @Override
    public void close() {
        consumer.close();
    }
}
