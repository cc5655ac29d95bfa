package io.unclip.service.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import io.unclip.api.v1.StageName;

/**
 * The topics of the distributed pipeline (records.proto) and how to create them.
 *
 * <p>Every record is keyed by its job id, so a job's records stay ordered within one partition.
 * Every topic gets the same number of partitions: at least the largest number of replicas any
 * stage may run (a stage is one consumer group; a replica beyond the partition count idles).
 */
public final class Topics {
    private Topics() {
    }

    public static final String JOBS = "unclip.jobs";
    public static final String TEXT_ENCODER = "stage.text-encoder";
    public static final String PRIOR = "stage.prior";
    public static final String DECODER = "stage.decoder";
    public static final String UPSAMPLER = "stage.upsampler";
    public static final String CAPTIONER = "stage.captioner";
    public static final String EVENTS = "unclip.events";
    public static final String RESULTS = "unclip.results";
    public static final String DEAD_LETTER = "unclip.dead-letter";

    /** Default partitions per topic: room for 8 replicas of every stage. */
    public static final int DEFAULT_PARTITIONS = 8;

    /** Largest record: previews and results carry PNGs inline. Producers and topics allow this. */
    public static final int MAX_RECORD_BYTES = 16 * 1024 * 1024;

    /** Every topic, in pipeline order. */
    public static final List<String> ALL = List.of(JOBS, TEXT_ENCODER, PRIOR, DECODER, UPSAMPLER, CAPTIONER, EVENTS,
            RESULTS, DEAD_LETTER);

    /** The topic a stage consumes its tasks from. */
    public static String forStage(StageName stage) {
        return switch (stage) {
            case TEXT_ENCODER -> TEXT_ENCODER;
            case PRIOR -> PRIOR;
            case DECODER -> DECODER;
            case UPSAMPLER -> UPSAMPLER;
            case CAPTIONER -> CAPTIONER;
            default -> throw new IllegalArgumentException("stage " + stage + " has no task topic");
        };
    }

    /** The consumer group of a stage's workers: all replicas of a stage share it. */
    public static String groupFor(StageName stage) {
        return "unclip." + forStage(stage).substring("stage.".length());
    }

    /** Per-topic settings: large records everywhere; events (previews) kept an hour only. */
    public static Map<String, String> configs(String topic) {
        if (EVENTS.equals(topic)) {
            return Map.of("max.message.bytes", Integer.toString(MAX_RECORD_BYTES), "retention.ms", "3600000");
        }
        return Map.of("max.message.bytes", Integer.toString(MAX_RECORD_BYTES));
    }

    /**
     * Creates the missing topics ({@link #ALL}) with {@code partitions} partitions each and
     * replication factor 1 (or the broker's default when {@code replicationFactor} is 0);
     * existing topics are left as they are. Safe to call from every replica at start.
     */
    public static void ensure(Admin admin, int partitions, short replicationFactor, long timeoutMs) {
        try {
            Set<String> existing = admin.listTopics().names().get(timeoutMs, TimeUnit.MILLISECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String t : ALL) {
                if (!existing.contains(t)) {
                    NewTopic nt = replicationFactor > 0
                            ? new NewTopic(t, partitions, replicationFactor)
                            : new NewTopic(t, java.util.Optional.of(partitions), java.util.Optional.empty());
                    missing.add(nt.configs(configs(t)));
                }
            }
            if (missing.isEmpty()) {
                return;
            }
            for (var f : admin.createTopics(missing).values().values()) {
                try {
                    f.get(timeoutMs, TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("cannot create the pipeline's topics: " + cause, cause);
        }
    }
}
