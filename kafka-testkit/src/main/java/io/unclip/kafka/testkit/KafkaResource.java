package io.unclip.kafka.testkit;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * {@code @QuarkusTestResource(KafkaResource.class)}: starts an {@link EmbeddedKafka} for the test
 * class's Quarkus application and hands it {@code kafka.bootstrap.servers}. The broker is shared
 * by every test class of the module that names this resource (Quarkus starts it once per
 * application start) and stopped when the application stops.
 */
public class KafkaResource implements QuarkusTestResourceLifecycleManager {
    private EmbeddedKafka kafka;

    @Override
    public Map<String, String> start() {
        kafka = EmbeddedKafka.start();
        return Map.of("kafka.bootstrap.servers", kafka.bootstrapServers());
    }

    @Override
    public void stop() {
        if (kafka != null) {
            kafka.close();
            kafka = null;
        }
    }
}
