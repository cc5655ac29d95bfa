package io.unclip.service.kafka;

import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Client settings of the pipeline: keys are job ids (strings), values bytes (protobuf or JSON).
 *
 * @param bootstrapServers  host:port list of the brokers
 * @param sessionTimeoutMs  consumer group session timeout: how soon a dead replica's partitions
 *                          move to the others
 * @param extra             any other client setting (applied last, to every client)
 */
public record KafkaSettings(String bootstrapServers, int sessionTimeoutMs, Map<String, String> extra) {
    public static final int DEFAULT_SESSION_TIMEOUT_MS = 6000;

    public KafkaSettings {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("kafka bootstrap servers are required");
        }
        extra = extra == null ? Map.of() : Map.copyOf(extra);
    }

    public static KafkaSettings of(String bootstrapServers) {
        return new KafkaSettings(bootstrapServers, DEFAULT_SESSION_TIMEOUT_MS, Map.of());
    }

    /**
     * An idempotent producer that waits for the broker's acknowledgement (acks=all) and sends at
     * once (no linger: the pipeline is latency-bound, not throughput-bound).
     */
    public Properties producer(String clientId) {
        Properties p = base(clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return apply(p);
    }

    /**
     * A consumer of a shared group that commits by hand, one record per poll (a task can take
     * seconds; records fetched but not started must not wait behind it on this replica).
     */
    public Properties groupConsumer(String groupId, String clientId) {
        Properties p = consumer(clientId);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1");
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Integer.toString(sessionTimeoutMs));
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Integer.toString(Math.max(100, sessionTimeoutMs / 4)));
        return apply(p);
    }

    /** A consumer without a group (manual assignment), for broadcast topics every instance reads. */
    public Properties standaloneConsumer(String clientId) {
        Properties p = consumer(clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
        return apply(p);
    }

    public Properties admin(String clientId) {
        return apply(base(clientId));
    }

    private Properties consumer(String clientId) {
        Properties p = base(clientId);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES));
        return p;
    }

    private Properties base(String clientId) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        return p;
    }

    private Properties apply(Properties p) {
        p.putAll(extra);
        return p;
    }
}
