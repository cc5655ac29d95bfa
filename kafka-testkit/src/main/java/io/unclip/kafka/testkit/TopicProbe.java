package io.unclip.kafka.testkit;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A test's view of some topics: produce records (string keys, byte values, optional headers) and
 * wait for records on topics read from the beginning, every partition, without a consumer group.
 */
public final class TopicProbe implements AutoCloseable {
    private final KafkaProducer<String, byte[]> producer;
    private final KafkaConsumer<String, byte[]> consumer;
    private final List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();

    /** @param topics topics to read (they must exist) */
    public TopicProbe(String bootstrapServers, String... topics) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("max.request.size", Integer.toString(16 * 1024 * 1024));
        p.put("linger.ms", "0");
        producer = new KafkaProducer<>(p);
        Properties c = new Properties();
        c.put("bootstrap.servers", bootstrapServers);
        c.put("key.deserializer", StringDeserializer.class.getName());
        c.put("value.deserializer", ByteArrayDeserializer.class.getName());
        c.put("enable.auto.commit", "false");
        c.put("max.partition.fetch.bytes", Integer.toString(16 * 1024 * 1024));
        consumer = new KafkaConsumer<>(c);
        List<TopicPartition> parts = new ArrayList<>();
        for (String t : topics) {
            consumer.partitionsFor(t, Duration.ofSeconds(30)).forEach(i -> parts.add(new TopicPartition(t, i.partition())));
        }
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
    }

    public void send(String topic, String key, byte[] value) {
        send(topic, key, value, Map.of());
    }

    public void send(String topic, String key, byte[] value, Map<String, String> headers) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, key, value);
        headers.forEach((k, v) -> r.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
        try {
            producer.send(r).get();
        } catch (Exception e) {
            throw new IllegalStateException("cannot send to " + topic + ": " + e, e);
        }
    }

    /** Waits until {@code n} records matching {@code filter} were seen; returns them in arrival order. */
    public List<ConsumerRecord<String, byte[]>> await(Predicate<ConsumerRecord<String, byte[]>> filter, int n,
                                                      Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<ConsumerRecord<String, byte[]>> match = seen.stream().filter(filter).toList();
            if (match.size() >= n) {
                return match;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("saw " + match.size() + " of " + n + " matching records within " + timeout
                        + " (" + seen.size() + " records in all)");
            }
            consumer.poll(Duration.ofMillis(50)).forEach(seen::add);
        }
    }

    /** The first record on {@code topic} keyed {@code key}. */
    public ConsumerRecord<String, byte[]> first(String topic, String key, Duration timeout) {
        return await(r -> r.topic().equals(topic) && key.equals(r.key()), 1, timeout).get(0);
    }

    /** Polls for {@code settle}, then returns every record seen so far matching {@code filter}. */
    public List<ConsumerRecord<String, byte[]>> settle(Predicate<ConsumerRecord<String, byte[]>> filter, Duration settle) {
        long deadline = System.nanoTime() + settle.toNanos();
        do {
            consumer.poll(Duration.ofMillis(50)).forEach(seen::add);
        } while (System.nanoTime() < deadline);
        return seen.stream().filter(filter).toList();
    }

    public static Predicate<ConsumerRecord<String, byte[]>> on(String topic, String key) {
        return r -> r.topic().equals(topic) && key.equals(r.key());
    }

    public static String header(ConsumerRecord<String, byte[]> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(2));
        consumer.close(Duration.ofSeconds(2));
    }
}
