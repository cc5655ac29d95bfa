package io.unclip.service.kafka;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The Kafka client settings an operator adds, read the Quarkus way: every {@code kafka.<client key>} property
 * ({@code kafka.security.protocol}, {@code kafka.sasl.mechanism}, {@code kafka.sasl.jaas.config},
 * {@code kafka.ssl.truststore.location}, ...) and its environment form ({@code KAFKA_SECURITY_PROTOCOL}) reaches
 * every producer, consumer and admin client of the service, the gateway and the CLI. {@code kafka.bootstrap.servers}
 * is read on its own. The settings the pipeline's correctness rests on (serializers, manual commits, idempotent
 * acks=all producers, one record per poll, group ids) are refused with a message rather than silently overridden.
 */
public final class KafkaClientProperties {
    private static final String PREFIX = "kafka.";
    private static final String ENV_PREFIX = "KAFKA_";

    /** Keys the pipeline sets itself: commit tracking, ordering and record format depend on them. */
    static final Set<String> PIPELINE_OWNED = Set.of("key.serializer", "value.serializer", "key.deserializer",
            "value.deserializer", "enable.auto.commit", "group.id", "acks", "enable.idempotence", "max.poll.records",
            "auto.offset.reset", "client.id", "max.request.size", "max.partition.fetch.bytes");

    /** Every setting a producer, consumer or admin client knows: what an environment variable may name. */
    static final Set<String> CLIENT_KEYS;

    static {
        Set<String> keys = new java.util.HashSet<>(org.apache.kafka.clients.producer.ProducerConfig.configNames());
        keys.addAll(org.apache.kafka.clients.consumer.ConsumerConfig.configNames());
        keys.addAll(org.apache.kafka.clients.admin.AdminClientConfig.configNames());
        CLIENT_KEYS = Set.copyOf(keys);
    }

    private KafkaClientProperties() {
    }

    /**
     * The client settings among {@code names}, looked up with {@code value}: {@code kafka.a.b} gives {@code a.b};
     * {@code KAFKA_A_B} (an environment variable) gives {@code a.b} unless {@code kafka.a.b} is also set.
     *
     * @throws IllegalArgumentException for a key the pipeline owns
     */
    public static Map<String, String> from(Iterable<String> names, Function<String, String> value) {
        Map<String, String> out = new TreeMap<>();
        Map<String, String> fromEnv = new TreeMap<>();
        for (String name : names) {
            String key;
            Map<String, String> into;
            if (name.startsWith(PREFIX)) {
                key = name.substring(PREFIX.length());
                into = out;
            } else if (name.startsWith(ENV_PREFIX) && name.equals(name.toUpperCase(Locale.ROOT))) {
                key = name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
                if (!CLIENT_KEYS.contains(key)) {
                    continue; // KAFKA_HOME, KAFKA_HEAP_OPTS, ...: the environment of Kafka's own scripts
                }
                into = fromEnv;
            } else {
                continue;
            }
            if (key.isEmpty() || key.equals("bootstrap.servers")) {
                continue;
            }
            if (PIPELINE_OWNED.contains(key)) {
                throw new IllegalArgumentException(name + ": " + key + " is set by the pipeline (commit tracking and"
                        + " record format depend on it) and cannot be configured");
            }
            String v = value.apply(name);
            if (v != null) {
                into.put(key, v);
            }
        }
        fromEnv.forEach(out::putIfAbsent);
        return Map.copyOf(out);
    }

    /** The client settings of a MicroProfile configuration (a service's or the gateway's). */
    public static Map<String, String> from(org.eclipse.microprofile.config.Config config) {
        return from(config.getPropertyNames(), n -> config.getOptionalValue(n, String.class).orElse(null));
    }
}
