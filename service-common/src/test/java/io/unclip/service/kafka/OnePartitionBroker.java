package io.unclip.service.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.unclip.kafka.testkit.EmbeddedKafka;

/**
 * A real broker whose topics have one partition each, so that the records a test sends are read
 * in order by one worker: what a record does to the records behind it on its partition is what
 * these tests check.
 */
final class OnePartitionBroker implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(30);

    final EmbeddedKafka kafka;
    final KafkaSettings settings;
    final Producer<String, byte[]> producer;

    OnePartitionBroker() {
        kafka = EmbeddedKafka.start();
        settings = new KafkaSettings(kafka.bootstrapServers(), 6000, Map.of());
        try (Admin admin = Admin.create(settings.admin("test-admin"))) {
            Topics.ensure(admin, 1, (short) 1, 30_000);
        }
        producer = new KafkaProducer<>(settings.producer("test"));
    }

    /** Creates a one-partition topic of the test's own (a worker can read any topic it is given). */
    void topic(String name) throws Exception {
        try (Admin admin = Admin.create(settings.admin("test-admin"))) {
            admin.createTopics(List.of(new NewTopic(name, 1, (short) 1).configs(Topics.configs(name)))).all().get();
        }
    }

    RecordMetadata send(String topic, String key, byte[] value) throws Exception {
        return producer.send(new ProducerRecord<>(topic, key, value)).get();
    }

    /** A started worker whose clients use {@code settings}, joined to its group. */
    WorkerStack worker(KafkaSettings settings, StageWorker.Config config, StageHandler handler, java.nio.file.Path results)
            throws InterruptedException {
        WorkerStack w = WorkerStack.start(settings, config, handler, results, 0, new SimpleMeterRegistry(),
                Duration.ofMinutes(1));
        if (!w.worker().awaitAssignment(WAIT)) {
            w.close();
            throw new AssertionError("worker did not join its group");
        }
        return w;
    }

    @Override
    public void close() {
        producer.close();
        kafka.close();
    }
}
