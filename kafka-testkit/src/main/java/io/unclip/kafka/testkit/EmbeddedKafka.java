package io.unclip.kafka.testkit;

import java.util.Map;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node KRaft Kafka broker (broker and controller in one node) in this JVM, on a
 * free port, with its data in a temporary directory deleted on {@link #close()}. Up in about
 * three seconds.
 *
 * <p>A one-node cluster needs the internal topics at replication factor 1 and no initial
 * rebalance delay; without them a consumer group never receives records (see
 * ../shared/notes/toolchain.md). {@link #BROKER_SETTINGS} holds them.
 */
public final class EmbeddedKafka implements AutoCloseable {
    /** Broker settings for one node; the local stack's broker uses the same. */
    public static final Map<String, String> BROKER_SETTINGS = Map.of(
            "offsets.topic.replication.factor", "1",
            "offsets.topic.num.partitions", "1",
            "transaction.state.log.replication.factor", "1",
            "transaction.state.log.min.isr", "1",
            "group.initial.rebalance.delay.ms", "0",
            // workers use a short session timeout so that a killed replica's partitions move quickly
            "group.min.session.timeout.ms", "1000",
            "message.max.bytes", Integer.toString(16 * 1024 * 1024),
            "auto.create.topics.enable", "false");

    private final KafkaClusterTestKit cluster;

    private EmbeddedKafka(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    /** Formats and starts a broker; blocks until it accepts clients. */
    public static EmbeddedKafka start() {
        KafkaClusterTestKit cluster = null;
        try {
            KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .build());
            BROKER_SETTINGS.forEach(builder::setConfigProp);
            cluster = builder.build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            return new EmbeddedKafka(cluster);
        } catch (Exception e) {
            if (cluster != null) {
                try {
                    cluster.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("cannot start the embedded Kafka broker: " + e, e);
        }
    }

    /** host:port of the broker's client listener. */
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    @Override
    public void close() {
        try {
            cluster.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop the embedded Kafka broker: " + e, e);
        }
    }
}
