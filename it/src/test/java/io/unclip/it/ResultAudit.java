package io.unclip.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.unclip.engine.image.PngCodec;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.GenerationResult;

/**
 * Did a run of JSON batch jobs lose, duplicate or change anything? Reads every record of
 * {@code unclip.results} (all partitions, from the beginning, no group) on its own thread from
 * the moment it is opened, and reads each result's image files as its record arrives, so that a
 * duplicate result, which rewrites the same files, is compared with what the first one wrote.
 *
 * <p>Then, per job: <b>lost</b> = no SUCCEEDED record; <b>duplicated</b> = more than one result
 * record; <b>differing</b> = an image not byte for byte the embedded cascade's for the same request
 * ({@link BatchJob#embedded}), or a duplicate whose content (the record without its timings and
 * finish time, and its image bytes) differs from the first record's. At-least-once delivery
 * allows duplicates; it allows neither of the others.
 */
final class ResultAudit implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    /** One result record as it arrived: its JSON without timings, and its images' bytes then. */
    record Seen(String jobId, String status, JsonNode content, List<byte[]> images, String error) {
        boolean sameAs(Seen o) {
            if (!content.equals(o.content) || images.size() != o.images.size()) {
                return false;
            }
            for (int i = 0; i < images.size(); i++) {
                if (!Arrays.equals(images.get(i), o.images.get(i))) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * What the audit found.
     *
     * @param jobs       jobs audited
     * @param records    their result records
     * @param lost       jobs without a SUCCEEDED result
     * @param duplicated jobs with more than one result record
     * @param differing  jobs with an image unlike the embedded cascade's, or duplicates unlike each other
     * @param problems   one line per lost or differing job (the first 20)
     */
    record Report(int jobs, int records, int lost, int duplicated, int differing, List<String> problems) {
        String summary() {
            return String.format(Locale.ROOT, "%d jobs, %d result records: %d lost, %d duplicated, %d differing%s",
                    jobs, records, lost, duplicated, differing,
                    problems.isEmpty() ? "" : "\n  " + String.join("\n  ", problems));
        }
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<String, List<Seen>> seen = new ConcurrentHashMap<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Thread reader;
    private volatile RuntimeException failure;

    /** Starts reading {@code unclip.results} of the broker at {@code bootstrapServers}. */
    ResultAudit(String bootstrapServers) {
        Properties c = new Properties();
        c.put("bootstrap.servers", bootstrapServers);
        c.put("key.deserializer", StringDeserializer.class.getName());
        c.put("value.deserializer", ByteArrayDeserializer.class.getName());
        c.put("enable.auto.commit", "false");
        c.put("max.partition.fetch.bytes", Integer.toString(16 * 1024 * 1024));
        consumer = new KafkaConsumer<>(c);
        List<TopicPartition> parts = consumer.partitionsFor("unclip.results", Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        reader = new Thread(this::read, "result-audit");
        reader.setDaemon(true);
        reader.start();
    }

    private void read() {
        try {
            while (!stop.get()) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (r.key() != null && r.value().length > 0 && r.value()[0] == '{') {
                        seen.computeIfAbsent(r.key(), k -> new CopyOnWriteArrayList<>()).add(parse(r.value()));
                    }
                }
            }
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private static Seen parse(byte[] value) {
        try {
            JsonNode r = JSON.readTree(value);
            List<byte[]> images = new ArrayList<>();
            for (JsonNode img : r.path("images")) {
                Path f = Path.of(img.get("path").asText());
                images.add(Files.isRegularFile(f) ? Files.readAllBytes(f) : new byte[0]);
            }
            ObjectNode content = r.deepCopy();
            content.remove("timings");
            content.remove("finished_at");
            return new Seen(r.path("job_id").asText(), r.path("status").asText(), content, images,
                    r.has("error") ? r.get("error").toString() : null);
        } catch (IOException e) {
            throw new IllegalStateException("unreadable result: " + e, e);
        }
    }

    /** How many of {@code ids} have a terminal record so far. */
    int finished(Collection<String> ids) {
        return (int) ids.stream().filter(seen::containsKey).count();
    }

    /** Waits until every id has a result record (or {@code timeout} passes), then {@code settle} more for duplicates. */
    void await(Collection<String> ids, Duration timeout, Duration settle) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (finished(ids) < ids.size() && System.nanoTime() < deadline) {
            check();
            Thread.sleep(100);
        }
        Thread.sleep(settle.toMillis());
        check();
    }

    private void check() {
        if (failure != null) {
            throw new IllegalStateException("the result reader failed: " + failure, failure);
        }
    }

    /**
     * Audits {@code jobs} against what has been read so far and the embedded cascade of
     * {@code bundle} (each distinct request computed once).
     */
    Report report(Collection<BatchJob> jobs, Path bundle) {
        check();
        PngCodec png = PngCodec.withDefaultLimits();
        int records = 0;
        int lost = 0;
        int duplicated = 0;
        int differing = 0;
        List<String> problems = new ArrayList<>();
        Map<GenerationRequest, List<byte[]>> expected = new HashMap<>();
        try (Cascade cascade = Cascade.open(bundle, RuntimeOptions.defaults())) {
            for (BatchJob job : jobs) {
                List<Seen> rs = seen.getOrDefault(job.id(), List.of());
                records += rs.size();
                Seen ok = rs.stream().filter(s -> s.status().equals("SUCCEEDED")).findFirst().orElse(null);
                String problem = null;
                if (ok == null) {
                    lost++;
                    problem = job.id() + ": lost (" + (rs.isEmpty() ? "no result" : rs.get(0).status() + " "
                            + rs.get(0).error()) + ")";
                } else {
                    List<byte[]> want = expected.computeIfAbsent(job.embedded(), r -> {
                        GenerationResult g = cascade.generate(r, null, null);
                        List<byte[]> l = new ArrayList<>();
                        for (int i = 0; i < g.images().dim(0); i++) {
                            l.add(png.encode(g.images(), i, g.parameters().pngText(i)));
                        }
                        return l;
                    });
                    if (want.size() != ok.images().size()) {
                        problem = job.id() + ": " + ok.images().size() + " images, expected " + want.size();
                    } else {
                        for (int i = 0; i < want.size() && problem == null; i++) {
                            if (!Arrays.equals(want.get(i), ok.images().get(i))) {
                                problem = job.id() + ": image " + i + " is not the embedded cascade's ("
                                        + (sameFromIdat(want.get(i), ok.images().get(i)) ? "same pixels, other text chunks"
                                        : "other pixels") + ")";
                            }
                        }
                    }
                }
                if (rs.size() > 1) {
                    duplicated++;
                    if (problem == null && !rs.stream().allMatch(s -> s.sameAs(rs.get(0)))) {
                        problem = job.id() + ": " + rs.size() + " result records, not all the same ("
                                + rs.stream().map(Seen::status).toList() + ")";
                    }
                }
                if (problem != null) {
                    if (ok != null) {
                        differing++;
                    }
                    if (problems.size() < 20) {
                        problems.add(problem);
                    }
                }
            }
        }
        return new Report(jobs.size(), records, lost, duplicated, differing, List.copyOf(problems));
    }

    private static boolean sameFromIdat(byte[] a, byte[] b) {
        try {
            return Arrays.equals(DistributedStackTest.fromIdat(a), DistributedStackTest.fromIdat(b));
        } catch (AssertionError e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        reader.join(5000);
    }
}
