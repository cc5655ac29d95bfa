package io.unclip.service.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

class KafkaClientPropertiesTest {

    static Map<String, String> read(Map<String, String> config) {
        return KafkaClientProperties.from(config.keySet(), config::get);
    }

    @Test
    void kafkaKeysAndTheirEnvironmentFormsReachTheClients() {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("kafka.bootstrap.servers", "broker:9093");
        config.put("kafka.security.protocol", "SASL_SSL");
        config.put("kafka.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        config.put("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512");
        config.put("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"); // the property wins over the environment
        config.put("KAFKA_HOME", "/opt/kafka"); // not a client setting
        config.put("KAFKA_BOOTSTRAP_SERVERS", "other:9092");
        config.put("unclip.kafka.partitions", "8");
        config.put("quarkus.http.port", "8080");
        assertEquals(Map.of("security.protocol", "SASL_SSL",
                "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "sasl.mechanism", "SCRAM-SHA-512"), read(config));
    }

    @Test
    void settingsThePipelineReliesOnAreRefusedWithTheKeyNamed() {
        for (String key : new String[] {"kafka.enable.auto.commit", "kafka.acks", "KAFKA_GROUP_ID",
                "kafka.value.deserializer"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> read(Map.of(key, "x")), key);
            assertTrue(e.getMessage().startsWith(key + ": "), e.getMessage());
            assertTrue(e.getMessage().contains("set by the pipeline"), e.getMessage());
        }
    }

    @Test
    void theSettingsAreAppliedToEveryClient() {
        KafkaSettings s = new KafkaSettings("broker:9093", 6000, read(Map.of("kafka.security.protocol", "SSL",
                "kafka.ssl.truststore.location", "/etc/ca.p12")));
        for (var p : java.util.List.of(s.producer("p"), s.groupConsumer("g", "c"), s.standaloneConsumer("c"),
                s.admin("a"))) {
            assertEquals("SSL", p.get("security.protocol"));
            assertEquals("/etc/ca.p12", p.get("ssl.truststore.location"));
            assertEquals("broker:9093", p.get("bootstrap.servers"));
        }
    }
}
