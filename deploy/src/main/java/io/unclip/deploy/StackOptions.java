package io.unclip.deploy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How to start a stack.
 *
 * @param root        the repository (built: every service's quarkus-app and deploy/target/kafka-libs)
 * @param stateDir    where PIDs, logs, results and the broker's data go
 * @param modelsDir   the model bundle every service loads
 * @param replicas    replicas per service name (default 1 each)
 * @param kafkaPort   the broker's client port; 0 = a free one (9092 is tried first by {@link #defaults})
 * @param gatewayPort the gateway's port; 0 = a free one
 * @param partitions  partitions per topic (raised to the largest replica count)
 * @param jvmOptions  options for every service JVM
 * @param properties  extra system properties for every service (e.g. unclip.device=cuda)
 * @param timeout     how long to wait for everything to be ready
 * @param secure      TLS on every gRPC port, API keys on the gateway, SASL_SSL on the broker ({@link StackSecurity})
 */
public record StackOptions(Path root, Path stateDir, Path modelsDir, Map<String, Integer> replicas, int kafkaPort,
                           int gatewayPort, int partitions, List<String> jvmOptions, Map<String, String> properties,
                           Duration timeout, boolean secure) {
    public StackOptions {
        replicas = Map.copyOf(replicas);
        jvmOptions = List.copyOf(jvmOptions);
        properties = Map.copyOf(properties);
        replicas.forEach((k, v) -> {
            StackService.of(k);
            if (v < 1 || v > 64) {
                throw new IllegalArgumentException("replicas of " + k + " must be in [1, 64], got " + v);
            }
        });
    }

    /**
     * Defaults for the repository at {@code root}: state in {@code root/.unclip/stack}, the
     * bundle at $UNCLIP_MODELS or {@code root/models/bundle} (as the CLI), one replica each,
     * Kafka on 9092 and the gateway on 8080 when free, 8 partitions, 512 MiB heaps.
     */
    public static StackOptions defaults(Path root) {
        String env = System.getenv("UNCLIP_MODELS");
        Path models = env != null && !env.isBlank() ? Path.of(env) : root.resolve("models/bundle");
        return new StackOptions(root, root.resolve(".unclip/stack"), models, Map.of(), 9092, 8080, 8,
                List.of("-Xmx512m", "-XX:+UseSerialGC"), Map.of(), Duration.ofMinutes(3), false);
    }

    public StackOptions withStateDir(Path d) {
        return new StackOptions(root, d, modelsDir, replicas, kafkaPort, gatewayPort, partitions, jvmOptions,
                properties, timeout, secure);
    }

    public StackOptions withModels(Path m) {
        return new StackOptions(root, stateDir, m, replicas, kafkaPort, gatewayPort, partitions, jvmOptions,
                properties, timeout, secure);
    }

    public StackOptions withReplicas(Map<String, Integer> r) {
        return new StackOptions(root, stateDir, modelsDir, r, kafkaPort, gatewayPort, partitions, jvmOptions,
                properties, timeout, secure);
    }

    public StackOptions withPorts(int kafka, int gateway) {
        return new StackOptions(root, stateDir, modelsDir, replicas, kafka, gateway, partitions, jvmOptions,
                properties, timeout, secure);
    }

    public StackOptions withPartitions(int p) {
        return new StackOptions(root, stateDir, modelsDir, replicas, kafkaPort, gatewayPort, p, jvmOptions,
                properties, timeout, secure);
    }

    public StackOptions withJvmOptions(List<String> o) {
        return new StackOptions(root, stateDir, modelsDir, replicas, kafkaPort, gatewayPort, partitions, o,
                properties, timeout, secure);
    }

    public StackOptions withProperties(Map<String, String> p) {
        return new StackOptions(root, stateDir, modelsDir, replicas, kafkaPort, gatewayPort, partitions, jvmOptions,
                p, timeout, secure);
    }

    public StackOptions withTimeout(Duration t) {
        return new StackOptions(root, stateDir, modelsDir, replicas, kafkaPort, gatewayPort, partitions, jvmOptions,
                properties, t, secure);
    }

    public StackOptions withSecure(boolean s) {
        return new StackOptions(root, stateDir, modelsDir, replicas, kafkaPort, gatewayPort, partitions, jvmOptions,
                properties, timeout, s);
    }

    int replicasOf(StackService s) {
        return replicas.getOrDefault(s.id(), 1);
    }

    /** Partitions per topic: {@link #partitions}, raised to the largest replica count asked for. */
    int topicPartitions() {
        return Math.max(partitions, replicas.values().stream().mapToInt(i -> i).max().orElse(1));
    }
}
