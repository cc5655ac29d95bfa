package io.unclip.cli;

import io.unclip.api.v1.GeneratedImage;
import io.unclip.api.v1.JobResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code unclip results}: the job results on {@code unclip.results}, from the beginning, as JSON lines. */
@Command(name = "results", mixinStandardHelpOptions = true,
        description = "Print the results on the stack's unclip.results topic (from the beginning) as JSON lines;"
                + " stops at --timeout, or once every --job has arrived.")
final class ResultsCommand extends BaseCommand {
    static final String RESULTS_TOPIC = "unclip.results";
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (default: the running local stack's, else localhost:9092).")
    String bootstrap;

    @Mixin
    KafkaClientOptions kafka = new KafkaClientOptions();

    @Option(names = "--job", paramLabel = "ID", arity = "1..*", description = "Only these jobs; stop once all arrived.")
    List<String> jobs;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "Stop after this long (default 30); with --job, a job still missing then is an error.")
    int timeout;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "How long to wait for the broker (default 10).")
    int connectTimeout;

    @Override
    int run() throws Exception {
        if (timeout < 1) {
            throw CliException.badInput("--timeout: must be positive, got " + timeout);
        }
        if (connectTimeout < 1 || connectTimeout > 600) {
            throw CliException.badInput("--connect-timeout: must be between 1 and 600, got " + connectTimeout);
        }
        String servers = SubmitCommand.bootstrap(environment(), bootstrap);
        Set<String> missing = jobs == null ? null : new LinkedHashSet<>(jobs);
        Properties p = new Properties();
        p.putAll(kafka.settings(environment(), servers));
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "unclip-results");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(connectTimeout * 1000));
        p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(connectTimeout * 1000));
        long deadline = System.nanoTime() + Duration.ofSeconds(timeout).toNanos();
        int printed = 0;
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            // every partition, from the beginning, without a group: nothing is committed, no group is left behind
            List<PartitionInfo> parts = consumer.partitionsFor(RESULTS_TOPIC, Duration.ofSeconds(connectTimeout));
            if (parts == null || parts.isEmpty()) {
                throw new CliException(ExitCodes.FAILED, "kafka " + servers + ": no topic " + RESULTS_TOPIC);
            }
            List<TopicPartition> tps = parts.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            while ((missing == null || !missing.isEmpty()) && System.nanoTime() < deadline) {
                long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(Math.min(left, 500)))) {
                    String id = r.key();
                    if (missing != null && !jobs.contains(id)) {
                        continue;
                    }
                    spec.commandLine().getOut().println(json(r));
                    spec.commandLine().getOut().flush();
                    printed++;
                    if (missing != null && !refusedResubmission(r)) {
                        missing.remove(id);
                    }
                }
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new CliException(ExitCodes.FAILED, "kafka " + servers + ": not reachable within " + connectTimeout
                    + " s (" + e.getMessage() + ")", e);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw SubmitCommand.kafkaError(servers, e);
        }
        if (missing != null && !missing.isEmpty()) {
            throw new CliException(ExitCodes.FAILED, "no result within " + timeout + " s for: "
                    + String.join(", ", missing));
        }
        return ExitCodes.OK;
    }

    /**
     * Whether the record is the failure of a second, different job under an id already taken
     * (ALREADY_EXISTS): it is printed, but the job that has the id has not ended.
     */
    static boolean refusedResubmission(ConsumerRecord<String, byte[]> r) {
        try {
            return JSON.readTree(json(r)).path("error").path("code").asText().equals("ALREADY_EXISTS");
        } catch (Exception e) {
            return false;
        }
    }

    /** The record as one JSON line: JSON results as-is, protobuf ones as a summary. */
    static String json(ConsumerRecord<String, byte[]> r) throws Exception {
        Header h = r.headers().lastHeader("unclip-result-format");
        String format = h == null ? "" : new String(h.value(), StandardCharsets.UTF_8);
        if (!"protobuf".equals(format)) {
            String text = new String(r.value(), StandardCharsets.UTF_8).strip();
            if (text.startsWith("{")) {
                return text.replace('\n', ' ');
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        try {
            JobResult res = JobResult.parseFrom(r.value());
            m.put("job_id", res.getJobId().isEmpty() ? r.key() : res.getJobId());
            m.put("status", res.getStatus().name());
            m.put("format", "protobuf");
            m.put("seed", Long.toUnsignedString(res.getSeed()));
            if (!res.getCaption().isEmpty()) {
                m.put("caption", res.getCaption());
                m.put("caption_style", res.getCaptionStyle());
            } else {
                m.put("images", res.getImagesList().stream().map(ResultsCommand::image).toList());
            }
            if (res.hasError()) {
                m.put("error", Output.map("code", res.getError().getCode().name(), "message",
                        res.getError().getMessage()));
            }
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            m.put("job_id", r.key());
            m.put("status", "UNREADABLE");
            m.put("format", format.isEmpty() ? "unknown" : format);
        }
        return JSON.writeValueAsString(m);
    }

    private static Map<String, Object> image(GeneratedImage g) {
        Map<String, Object> m = Output.map("index", g.getIndex(), "width", g.getWidth(), "height", g.getHeight(),
                "seed", Long.toUnsignedString(g.getSeed()));
        if (g.getImage().hasUri()) {
            m.put("uri", g.getImage().getUri());
        } else if (g.getImage().hasPng()) {
            m.put("png_bytes", g.getImage().getPng().size());
        }
        return m;
    }
}
