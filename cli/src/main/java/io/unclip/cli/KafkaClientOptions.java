package io.unclip.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import io.unclip.deploy.LocalStack;
import io.unclip.deploy.StackSecurity;
import io.unclip.deploy.StackStatus;
import io.unclip.service.kafka.KafkaClientProperties;
import picocli.CommandLine.Option;

/**
 * The Kafka client settings of {@code submit} and {@code results} beyond the bootstrap servers (a secured cluster's
 * {@code security.protocol}, {@code sasl.*}, {@code ssl.*}): a client properties file, as Kafka's own tools take
 * ({@code --command-config}), and {@code KAFKA_*} environment variables, read by the same rules as the services'.
 */
final class KafkaClientOptions {
    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "Kafka client properties (security.protocol, sasl.*, ssl.*, ...), as Kafka's tools take;"
                    + " KAFKA_* environment variables (KAFKA_SECURITY_PROTOCOL, ...) are read too.")
    Path file;

    /**
     * The settings to add to a client of {@code servers}: the file's, over the environment's; for the running
     * secure local stack's broker, its client settings unless a file is given.
     */
    Map<String, String> settings(Environment env, String servers) {
        Path file = this.file != null ? this.file : secureStackConfig(env, servers);
        Map<String, String> out;
        try {
            out = new HashMap<>(KafkaClientProperties.from(env.env().keySet(), env.env()::get));
        } catch (IllegalArgumentException e) {
            throw CliException.badInput(e.getMessage());
        }
        if (file != null) {
            Path f = env.workDir().resolve(file);
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(f)) {
                p.load(r);
            } catch (IOException e) {
                throw CliException.badInput("--kafka-config: cannot read " + f + ": " + e.getMessage());
            }
            try {
                out.putAll(KafkaClientProperties.from(p.stringPropertyNames().stream().map(n -> "kafka." + n).toList(),
                        n -> p.getProperty(n.substring("kafka.".length()))));
            } catch (IllegalArgumentException e) {
                throw CliException.badInput("--kafka-config " + f + ": " + e.getMessage().substring("kafka.".length()));
            }
        }
        return out;
    }

    private static Path secureStackConfig(Environment env, String servers) {
        try {
            StackStatus s = LocalStack.status(StackCommand.defaultStateDir(env));
            if (servers.equals(s.bootstrapServers())) {
                return StackSecurity.load(s.stateDir()).map(StackSecurity::kafkaClientConfig).orElse(null);
            }
        } catch (IOException | RuntimeException e) {
            // no readable stack state
        }
        return null;
    }
}
