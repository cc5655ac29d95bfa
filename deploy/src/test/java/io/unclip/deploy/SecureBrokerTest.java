package io.unclip.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import io.unclip.service.kafka.Topics;

/**
 * The secure stack's broker: a real KRaft broker whose only client listener is SASL_SSL (SCRAM-SHA-512, a
 * certificate keytool signed with a throw-away CA). The right credentials produce and consume; a wrong password
 * and a plaintext client are refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecureBrokerTest {
    Path state;
    StackSecurity security;
    StackProcess kafka;
    String bootstrap;

    @BeforeAll
    void up() throws Exception {
        state = Files.createTempDirectory("unclip-secure-broker");
        security = StackSecurity.create(state);
        int port = Ports.free(0);
        bootstrap = "localhost:" + port;
        kafka = BrokerLauncher.start(state, System.getProperty("java.class.path"), port, Ports.free(0), 2,
                Optional.of(security));
        Readiness.awaitBroker(bootstrap, security.kafkaClient(), kafka, Duration.ofMinutes(2));
        StackTopics.create(bootstrap, security.kafkaClient(), 2);
    }

    @AfterAll
    void down() throws Exception {
        if (kafka != null) {
            Processes.stopAll(List.of(kafka));
        }
    }

    Properties client(Map<String, String> settings) {
        Properties p = new Properties();
        p.putAll(settings);
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        return p;
    }

    @Test
    void theRightCredentialsProduceAndConsumeOverSaslSsl() throws Exception {
        Properties p = client(security.kafkaClient());
        try (Admin admin = Admin.create(p)) {
            assertEquals(Set.copyOf(Topics.ALL), admin.listTopics().names().get(30, TimeUnit.SECONDS));
        }
        Properties prod = client(security.kafkaClient());
        prod.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        prod.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        prod.remove(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(prod)) {
            producer.send(new ProducerRecord<>(Topics.JOBS, "job-1", "over TLS")).get(30, TimeUnit.SECONDS);
        }
        Properties cons = client(security.kafkaClient());
        cons.remove(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG);
        cons.put(ConsumerConfig.GROUP_ID_CONFIG, "secure-test");
        cons.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cons.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        cons.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cons)) {
            consumer.subscribe(List.of(Topics.JOBS));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String got = null;
            while (got == null && System.nanoTime() < deadline) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
                for (var r : records) {
                    got = r.value();
                }
            }
            assertEquals("over TLS", got);
        }
    }

    @Test
    void aWrongPasswordIsRefusedWithAnAuthenticationError() {
        Map<String, String> wrong = new java.util.HashMap<>(security.kafkaClient());
        wrong.put("sasl.jaas.config", StackSecurity.jaas(StackSecurity.CLIENT_USER, "not-the-password"));
        try (Admin admin = Admin.create(client(wrong))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.listTopics().names().get(30, TimeUnit.SECONDS));
            assertInstanceOf(SaslAuthenticationException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("invalid credentials"), e.getCause().getMessage());
        }
    }

    @Test
    void aPlaintextClientGetsNothing() {
        try (Admin admin = Admin.create(client(Map.of()))) {
            assertThrows(Exception.class, () -> admin.listTopics().names().get(8, TimeUnit.SECONDS));
        }
    }

    @Test
    void theSecretsAreTheOwnersOnly() throws Exception {
        assertEquals(PosixFilePermissions.fromString("rwx------"), Files.getPosixFilePermissions(security.dir()));
        for (Path f : List.of(security.apiKey(), security.serviceToken(), security.serviceConfig(),
                security.kafkaClientConfig())) {
            assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(f), f.toString());
        }
        String brokerConfig = Files.readString(state.resolve("kafka/server.properties"));
        assertTrue(brokerConfig.contains("SASL_SSL\\://localhost"), brokerConfig);
        assertTrue(!brokerConfig.contains("PLAINTEXT\\://localhost:" + bootstrap.split(":")[1]), brokerConfig);
        assertEquals(Optional.of(security), StackSecurity.load(state));
    }
}
