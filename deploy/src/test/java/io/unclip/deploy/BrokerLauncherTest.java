package io.unclip.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.unclip.service.kafka.Topics;

/**
 * The stack's broker as {@code up} starts it (from this test's class path, which holds the broker's
 * jars as deploy/target/kafka-libs does), and the topics {@code up} creates on it: every topic of
 * {@link Topics#ALL}, with its partitions and settings.
 */
class BrokerLauncherTest {
    @Test
    void theBrokerStartsAndGetsEveryTopicOfThePipeline(@TempDir Path state) throws Exception {
        int port = Ports.free(0);
        StackProcess kafka = BrokerLauncher.start(state, System.getProperty("java.class.path"), port, Ports.free(0), 2,
                Optional.empty());
        try {
            assertTrue(LaunchCommand.read(state, "kafka").isPresent(), "restart finds its command line");
            String bootstrap = "localhost:" + port;
            Readiness.awaitBroker(bootstrap, Map.of(), kafka, Duration.ofMinutes(2));
            StackTopics.create(bootstrap, Map.of(), 3);
            StackTopics.create(bootstrap, Map.of(), 3); // again: existing topics are left as they are

            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            try (Admin admin = Admin.create(p)) {
                Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                assertEquals(Set.copyOf(Topics.ALL), names);
                Map<String, TopicDescription> topics = admin.describeTopics(Topics.ALL).allTopicNames()
                        .get(30, TimeUnit.SECONDS);
                for (String t : Topics.ALL) {
                    assertEquals(3, topics.get(t).partitions().size(), t);
                }
                ConfigResource events = new ConfigResource(ConfigResource.Type.TOPIC, Topics.EVENTS);
                Config c = admin.describeConfigs(List.of(events)).all().get(30, TimeUnit.SECONDS).get(events);
                Topics.configs(Topics.EVENTS).forEach((k, v) -> assertEquals(v, c.get(k).value(), k));
            }
        } finally {
            Processes.stopAll(List.of(kafka));
        }
        assertFalse(kafka.alive());
        assertTrue(Files.readString(state.resolve("logs/kafka.log")).contains("Formatting"),
                "the storage was formatted into the log");
    }
}
