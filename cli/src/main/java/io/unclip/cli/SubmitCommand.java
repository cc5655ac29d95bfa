package io.unclip.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.unclip.deploy.LocalStack;
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
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code unclip submit FILE.jsonl}: batch jobs onto {@code unclip.jobs}, one JSON object per line;
 * {@code unclip submit --caption IMAGE...}: one caption job per image.
 */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = {"Send batch jobs (one JSON object per line) to the stack's unclip.jobs topic, keyed by job_id;"
                + " prints the job ids. Results: unclip results --job ID.",
                "With --caption: one caption job per image (PNG or JPEG), answered with its caption."})
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

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (default: the running local stack's, else localhost:9092).")
    String bootstrap;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "How long to wait for the broker (default 10).")
    int connectTimeout;

    record Job(String id, String json) {
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
        List<Job> jobs = file != null ? read() : captionJobs();
        if (jobs.isEmpty()) {
            throw CliException.badInput(file + ": no jobs");
        }
        String servers = bootstrap(environment(), bootstrap);
        Properties p = new Properties();
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
                output.info(captionImages == null ? jobs.get(i).id()
                        : jobs.get(i).id() + "\t" + captionImages.get(i));
            }
        } catch (org.apache.kafka.common.KafkaException e) {
            throw kafkaError(servers, e);
        }
        return ExitCodes.OK;
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
            jobs.add(new Job(id, o.toString()));
        }
        return jobs;
    }

    /** Every non-blank line as a job: its text as-is when it has a job_id, else with a new one. */
    List<Job> read() {
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
        List<Job> jobs = new ArrayList<>();
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
                throw CliException.badInput(where + ": not JSON: " + e.getOriginalMessage());
            }
            if (!(node instanceof ObjectNode o)) {
                throw CliException.badInput(where + ": not a JSON object");
            }
            JsonNode id = o.get("job_id");
            if (id == null || id.isNull()) {
                String generated = UUID.randomUUID().toString();
                o.put("job_id", generated);
                try {
                    jobs.add(new Job(generated, JSON.writeValueAsString(o)));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            } else if (!id.isTextual() || id.asText().isBlank()) {
                throw CliException.badInput(where + ": job_id must be a non-empty string");
            } else {
                jobs.add(new Job(id.asText(), line));
            }
        }
        return jobs;
    }

    /** {@code --bootstrap}, else the running local stack's broker, else localhost:9092; checked as HOST:PORT. */
    static String bootstrap(Environment env, String given) {
        String b = given;
        if (b == null) {
            try {
                LocalStack.Status s = LocalStack.status(StackCommand.defaultStateDir(env));
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
