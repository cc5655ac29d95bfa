package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** unclip submit against a real broker: what reaches unclip.jobs when some lines are bad. */
class SubmitBrokerTest {
    private static final String BUNDLE = System.getProperty("unclip.tiny.bundle",
            "../engine/src/test/resources/bundles/tiny");
    private static KafkaClusterTestKit cluster;

    @TempDir
    Path tmp;

    @BeforeAll
    static void broker() throws Exception {
        KafkaClusterTestKit.Builder b = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setCombined(true)
                .setNumBrokerNodes(1).setNumControllerNodes(1).build());
        b.setConfigProp("offsets.topic.replication.factor", "1");
        b.setConfigProp("transaction.state.log.replication.factor", "1");
        b.setConfigProp("transaction.state.log.min.isr", "1");
        b.setConfigProp("auto.create.topics.enable", "false");
        cluster = b.build();
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic(SubmitCommand.JOBS_TOPIC, 1, (short) 1))).all().get();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private UnclipCommandTest.Result run(String... args) {
        return UnclipCommandTest.runIn(tmp, args);
    }

    /** Every record on unclip.jobs so far, as key = value. */
    private static List<String> jobsTopic() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        List<String> seen = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(SubmitCommand.JOBS_TOPIC, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (c.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    seen.add(r.key() + " = " + r.value());
                }
            }
        }
        return seen;
    }

    /** This test's records on unclip.jobs (the broker is shared by the class's tests). */
    private static List<String> jobsTopic(String keyPrefix) {
        return jobsTopic().stream().filter(r -> r.startsWith(keyPrefix)).toList();
    }

    @Test
    void badLinesSendNothingUnlessSkipBadThenOnlyTheGoodOnes() throws Exception {
        Path jobs = tmp.resolve("jobs.jsonl");
        String good1 = "{\"job_id\": \"good-1\", \"prompt\": \"a small red circle\"}";
        String good2 = "{\"job_id\": \"good-2\", \"prompt\": \"a blue square\", \"size\": 32}";
        Files.writeString(jobs, String.join("\n", good1,
                "{\"job_id\": \"../../tmp/x\", \"prompt\": \"a small red circle\"}",
                "{\"job_id\": \"bad-size\", \"prompt\": \"a small red circle\", \"size\": 33}",
                good2) + "\n", StandardCharsets.UTF_8);
        String broker = cluster.bootstrapServers();

        UnclipCommandTest.Result refused = run("submit", jobs.toString(), "--models", BUNDLE, "--bootstrap", broker);
        assertEquals(ExitCodes.BAD_INPUT, refused.code(), refused.toString());
        assertEquals(2, refused.errLines().size(), refused.err());
        assertEquals(List.of(), jobsTopic("good-"), "nothing sent while a line is bad");

        UnclipCommandTest.Result sent = run("submit", jobs.toString(), "--skip-bad", "--models", BUNDLE,
                "--bootstrap", broker);
        assertEquals(ExitCodes.OK, sent.code(), sent.toString());
        assertEquals(refused.errLines(), sent.errLines(), "the bad lines are still reported");
        assertEquals("good-1\ngood-2\n", sent.out());
        assertEquals(List.of("good-1 = " + good1, "good-2 = " + good2), jobsTopic("good-"));
        assertTrue(sent.err().contains("jobs.jsonl:3: size: must be"), sent.err());
    }

    /** --kafka-config reaches the producer: TLS against this plaintext broker sends nothing; a pipeline key is refused. */
    @Test
    void kafkaConfigReachesTheProducer() throws Exception {
        Path jobs = tmp.resolve("one.jsonl");
        Files.writeString(jobs, "{\"job_id\": \"cfg-1\", \"prompt\": \"a small red circle\"}\n", StandardCharsets.UTF_8);
        String broker = cluster.bootstrapServers();
        Path tls = tmp.resolve("tls.properties");
        Files.writeString(tls, "security.protocol=SSL\n", StandardCharsets.UTF_8);
        UnclipCommandTest.Result overTls = run("submit", jobs.toString(), "--models", BUNDLE, "--bootstrap", broker,
                "--kafka-config", tls.toString(), "--connect-timeout", "3");
        assertTrue(overTls.code() != ExitCodes.OK, overTls.toString());
        assertTrue(jobsTopic().stream().noneMatch(r -> r.startsWith("cfg-1 ")), "nothing sent over the wrong protocol");

        Path owned = tmp.resolve("owned.properties");
        Files.writeString(owned, "acks=0\n", StandardCharsets.UTF_8);
        UnclipCommandTest.Result refused = run("submit", jobs.toString(), "--models", BUNDLE, "--bootstrap", broker,
                "--kafka-config", owned.toString());
        assertEquals(ExitCodes.BAD_INPUT, refused.code(), refused.toString());
        assertTrue(refused.err().contains("acks is set by the pipeline"), refused.err());

        Path plain = tmp.resolve("plain.properties");
        Files.writeString(plain, "security.protocol=PLAINTEXT\nclient.dns.lookup=use_all_dns_ips\n", StandardCharsets.UTF_8);
        UnclipCommandTest.Result sent = run("submit", jobs.toString(), "--models", BUNDLE, "--bootstrap", broker,
                "--kafka-config", plain.toString());
        assertEquals(ExitCodes.OK, sent.code(), sent.toString());
        assertTrue(jobsTopic().stream().anyMatch(r -> r.startsWith("cfg-1 ")));
    }
}
