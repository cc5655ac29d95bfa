package io.unclip.deploy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.common.Uuid;

import io.unclip.service.kafka.Topics;

/**
 * Starts the stack's broker: a single-node KRaft Kafka (broker and controller in one process)
 * from Apache Kafka's jars, on storage formatted afresh ({@code kafka.tools.StorageTool format
 * --standalone}) in {@code <state>/kafka/data}, its config in {@code <state>/kafka/server.properties},
 * its output in {@code <state>/logs/kafka.log}.
 */
final class BrokerLauncher {
    private BrokerLauncher() {
    }

    /** Where this module's build copies the broker's jars. */
    static Path kafkaLibs(Path root) {
        return root.resolve("deploy/target/kafka-libs");
    }

    /** The broker's class path in the repository at {@code root}. */
    static String classpath(Path root) {
        return kafkaLibs(root).toAbsolutePath() + "/*";
    }

    /**
     * The broker's settings: one node, topics only as the stack creates them, records up to 16 MiB; with
     * {@code security}, one SASL_SSL listener (SCRAM) for clients and between brokers, and the controller's
     * listener on loopback only.
     */
    static Properties config(Path data, int port, int controllerPort, int partitions,
                             Optional<StackSecurity> security) {
        Properties p = new Properties();
        String listener = security.isPresent() ? "SASL_SSL" : "PLAINTEXT";
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.bootstrap.servers", "localhost:" + controllerPort);
        p.put("listeners", listener + "://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort);
        p.put("advertised.listeners", listener + "://localhost:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", listener);
        p.put("listener.security.protocol.map", listener + ":" + listener + ",CONTROLLER:PLAINTEXT");
        security.ifPresent(s -> p.putAll(s.brokerListener()));
        p.put("log.dirs", data.toString());
        p.put("num.partitions", Integer.toString(partitions));
        // one node: internal topics at replication factor 1, no initial rebalance delay
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("group.min.session.timeout.ms", "1000");
        p.put("message.max.bytes", Integer.toString(Topics.MAX_RECORD_BYTES));
        p.put("auto.create.topics.enable", "false");
        p.put("log.retention.hours", "24");
        return p;
    }

    /**
     * Formats the broker's storage and starts it (not waiting for it: {@link Readiness#awaitBroker});
     * records its command line for {@code restart}.
     *
     * @param classpath the broker's class path ({@link #classpath})
     */
    static StackProcess start(Path state, String classpath, int port, int controllerPort, int partitions,
                              Optional<StackSecurity> security) throws IOException, InterruptedException {
        Path dir = state.resolve("kafka");
        Path data = dir.resolve("data");
        Path config = dir.resolve("server.properties");
        Files.createDirectories(dir);
        try (OutputStream out = Files.newOutputStream(config)) {
            config(data, port, controllerPort, partitions, security).store(out, "unclip local stack: single-node KRaft broker");
        }
        Path log = state.resolve("logs/kafka.log");
        Files.createDirectories(log.getParent());
        // the data directory is formatted afresh for every stack: a clean broker each time
        deleteTree(data);
        Files.createDirectories(data);
        List<String> format = new ArrayList<>(List.of(Processes.java(), "-cp", classpath, "kafka.tools.StorageTool",
                "format", "--standalone", "-t", Uuid.randomUuid().toString(), "-c", config.toString()));
        security.ifPresent(s -> format.addAll(s.scramUsers()));
        Process formatting = LaunchCommand.here(format).start(log, false);
        if (!formatting.waitFor(60, TimeUnit.SECONDS) || formatting.exitValue() != 0) {
            formatting.destroyForcibly();
            throw new IllegalStateException("formatting the broker's storage failed:\n" + Processes.tail(log));
        }
        LaunchCommand cmd = LaunchCommand.here(List.of(Processes.java(), "-Xmx512m", "-XX:+UseSerialGC",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath, "kafka.Kafka", config.toString()));
        cmd.record(state, StackProcess.KAFKA);
        return StackProcess.of(StackProcess.KAFKA, StackProcess.KAFKA, cmd.start(log, true), port, log);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
