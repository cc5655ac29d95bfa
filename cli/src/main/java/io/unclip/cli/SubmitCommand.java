package io.unclip.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.unclip.deploy.LocalStack;
import io.unclip.deploy.StackStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code unclip submit FILE.jsonl}: batch jobs onto {@code unclip.jobs}, one JSON object per line;
 * {@code unclip submit --caption IMAGE...}: one caption job per image. Every job is checked before
 * anything is sent ({@link JobChecks}: the Kafka door's own rules, then the model bundle's).
 */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = {"Send batch jobs (one JSON object per line) to the stack's unclip.jobs topic, keyed by job_id;"
                + " prints the job ids. Results: unclip results --job ID.",
                "With --caption: one caption job per image (PNG or JPEG), answered with its caption.",
                "Every job is checked first, with the services' rules (job_id, fields, limits, images decoded) and,"
                        + " when a model bundle is found (--models, $UNCLIP_MODELS, models/bundle), against it"
                        + " (prompt words in its vocabulary, size one it makes, sampler settings). Each bad line"
                        + " is reported as FILE:LINE: field: reason (an image as IMAGE: ...), and nothing is sent."},
        footer = {"", "Exit status: 0 sent, 1 failed (Kafka), 2 bad input (any bad job; with --skip-bad only when no"
                + " job was good), 3 invalid model bundle."})
final class SubmitCommand extends BaseCommand {
    static final String JOBS_TOPIC = "unclip.jobs";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE.jsonl",
            description = "The jobs, one JSON object per line ('-' = stdin).")
    Path file;

    @Option(names = "--caption", arity = "1..*", paramLabel = "IMAGE",
            description = "Caption these images instead: one job per image, its id printed before the file name.")
    List<Path> captionImages;

    @Option(names = "--style", paramLabel = "short|descriptive", defaultValue = "short",
            description = "Caption style of --caption jobs (default short).")
    String style;

    @Option(names = "--skip-bad",
            description = "Send the good jobs even when some are bad (the bad ones are still reported on stderr);"
                    + " exit 0 once the good ones are sent.")
    boolean skipBad;

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (default: the running local stack's, else localhost:9092).")
    String bootstrap;

    @Mixin
    KafkaClientOptions kafka = new KafkaClientOptions();

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "How long to wait for the broker (default 10).")
    int connectTimeout;

    /**
     * One job to send.
     *
     * @param where the line ({@code FILE:N}) or image it came from, for messages
     * @param label what is printed once it is sent (its id, with the image for caption jobs)
     */
    record Job(String where, String id, String json, String label) {
    }

    @Override
    int run() throws Exception {
        if (connectTimeout < 1 || connectTimeout > 600) {
            throw CliException.badInput("--connect-timeout: must be between 1 and 600, got " + connectTimeout);
        }
        if ((file == null) == (captionImages == null)) {
            throw CliException.badInput("give either FILE.jsonl or --caption IMAGE..., not " + (file == null
                    ? "neither" : "both"));
        }
        String servers = bootstrap(environment(), bootstrap);
        List<Job> good = new ArrayList<>();
        int[] bad = {0};
        Consumer<String> report = problem -> {
            output.error(problem);
            bad[0]++;
        };
        // every job is checked before anything connects; the bad ones are reported in input order
        try (JobChecks checks = new JobChecks(this::checkBundle, runtimeOptions())) {
            Consumer<Job> check = j -> {
                String problem = checks.problem(j.id(), j.json());
                if (problem == null) {
                    good.add(j);
                } else {
                    report.accept(j.where() + ": " + problem);
                }
            };
            if (file != null) {
                read(check, report);
            } else {
                captionJobs().forEach(check);
            }
        }
        if (good.isEmpty() && bad[0] == 0) {
            throw CliException.badInput(file + ": no jobs");
        }
        if (bad[0] > 0 && !skipBad) {
            return ExitCodes.BAD_INPUT;
        }
        if (good.isEmpty()) {
            throw CliException.badInput("no good jobs to send");
        }
        send(servers, good);
        return ExitCodes.OK;
    }

    /**
     * The bundle the model-dependent checks use: --models or $UNCLIP_MODELS (which must be there),
     * else models/bundle if there is one; null when there is none (the services check those).
     */
    private Path checkBundle() {
        String fromEnv = environment().env().get("UNCLIP_MODELS");
        boolean asked = common.models != null || (fromEnv != null && !fromEnv.isBlank());
        try {
            return bundleDir(null);
        } catch (CliException e) {
            if (asked || e.exitCode() != ExitCodes.BAD_BUNDLE) {
                throw e;
            }
            return null;
        }
    }

    private void send(String servers, List<Job> jobs) throws InterruptedException {
        Properties p = new Properties();
        p.putAll(kafka.settings(environment(), servers));
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Integer.toString(connectTimeout * 1000));
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(connectTimeout * 1000));
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.toString(connectTimeout * 1000 + 1000));
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "unclip-submit");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(16 * 1024 * 1024)); // inline images
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (Job j : jobs) {
                ProducerRecord<String, String> r = new ProducerRecord<>(JOBS_TOPIC, j.id(), j.json());
                r.headers().add("unclip-result-format", "json".getBytes(StandardCharsets.UTF_8));
                sent.add(producer.send(r));
            }
            producer.flush();
            for (int i = 0; i < jobs.size(); i++) {
                try {
                    sent.get(i).get(connectTimeout + 5L, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    throw kafkaError(servers, e.getCause());
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new CliException(ExitCodes.FAILED, "kafka " + servers + ": no acknowledgement for job "
                            + jobs.get(i).id() + " within " + (connectTimeout + 5) + " s");
                }
                output.event("submitted", Output.map("job_id", jobs.get(i).id()));
                output.info(jobs.get(i).label());
            }
        } catch (org.apache.kafka.common.KafkaException e) {
            throw kafkaError(servers, e);
        }
    }

    static CliException kafkaError(String servers, Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().replace('\n', ' ');
        if (e instanceof org.apache.kafka.common.errors.TimeoutException) {
            m = "no answer (is the broker up and the topic created?): " + m;
        }
        return new CliException(ExitCodes.FAILED, "kafka " + servers + ": " + m, e);
    }

    /** One caption job per --caption image, the image inline as base64 (size checked before reading). */
    List<Job> captionJobs() {
        String s = style.toLowerCase(java.util.Locale.ROOT);
        if (!s.equals("short") && !s.equals("descriptive")) {
            throw CliException.badInput("--style: must be short or descriptive, got '" + style + "'");
        }
        List<Job> jobs = new ArrayList<>();
        for (Path image : captionImages) {
            byte[] bytes = ImageUploads.read(environment().workDir(), image);
            String id = "caption-" + UUID.randomUUID();
            ObjectNode o = JSON.createObjectNode();
            o.put("job_id", id);
            o.put("type", "caption");
            o.put("style", s);
            o.put("image", java.util.Base64.getEncoder().encodeToString(bytes));
            jobs.add(new Job(image.toString(), id, o.toString(), id + "\t" + image));
        }
        return jobs;
    }

    /**
     * Every non-blank line as a job to {@code jobs}: its text as-is when it has a job_id, else with a
     * new one. Lines that are not JSON objects go to {@code bad} as {@code FILE:N: reason}.
     */
    void read(Consumer<Job> jobs, Consumer<String> bad) {
        List<String> lines;
        try {
            lines = file.toString().equals("-")
                    ? List.of(new String(System.in.readAllBytes(), StandardCharsets.UTF_8).split("\n"))
                    : Files.readAllLines(environment().workDir().resolve(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw CliException.badInput("cannot read " + file + ": no such file");
        } catch (IOException e) {
            throw CliException.badInput("cannot read " + file + ": " + e.getMessage());
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = file + ":" + (i + 1);
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                bad.accept(where + ": not JSON: " + e.getOriginalMessage());
                continue;
            }
            if (!(node instanceof ObjectNode o)) {
                bad.accept(where + ": not a JSON object");
                continue;
            }
            JsonNode id = o.get("job_id");
            if (id == null || id.isNull()) {
                String generated = UUID.randomUUID().toString();
                o.put("job_id", generated);
                try {
                    jobs.accept(new Job(where, generated, JSON.writeValueAsString(o), generated));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            } else {
                // a job_id that is no id (not a string, "../x") is the door's to refuse, in its words
                String given = id.isTextual() ? id.asText() : id.toString();
                jobs.accept(new Job(where, given, line, given));
            }
        }
    }

    /** {@code --bootstrap}, else the running local stack's broker, else localhost:9092; checked as HOST:PORT. */
    static String bootstrap(Environment env, String given) {
        String b = given;
        if (b == null) {
            try {
                StackStatus s = LocalStack.status(StackCommand.defaultStateDir(env));
                if (!s.bootstrapServers().isBlank()) {
                    b = s.bootstrapServers();
                }
            } catch (IOException | RuntimeException e) {
                // no readable state: the default
            }
        }
        if (b == null) {
            b = "localhost:9092";
        }
        List<String> checked = new ArrayList<>();
        for (String one : b.split(",")) {
            checked.add(StreamCommand.checkAddress("--bootstrap", one));
        }
        return String.join(",", checked);
    }
}
