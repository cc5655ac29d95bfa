package io.unclip.service.kafka;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * How many times a record was started, across the replicas of a group, kept in the group's
 * committed offsets: before a worker starts a record it commits the record's own offset (not the
 * next one, so a worker that dies still leaves the record to the next owner of its partition)
 * with the metadata {@code attempt=N;offset=O}. Whoever reads the record next, this replica after
 * a retry or another one after a crash or a rebalance, finds that metadata and knows the record
 * at O was started N times. Nothing is stored besides what Kafka keeps with the offsets; a count
 * kept in memory covers a commit or a read of the metadata that failed. The metadata is read only
 * for the first record of a partition after it was assigned: from then on the group's committed
 * offset of that partition is this replica's own, and its memory knows every count.
 *
 * <p>Poll thread only (the consumer is not thread-safe).
 */
final class RecordAttempts {
    private static final Logger LOG = Logger.getLogger(RecordAttempts.class);
    private static final int REMEMBERED = 1_000;

    /** Partitions whose committed offset this replica wrote last since they were assigned to it. */
    private final Set<TopicPartition> owned = new java.util.HashSet<>();
    private final Map<String, Integer> local = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
            return size() > REMEMBERED;
        }
    };

    /**
     * Counts a start of {@code rec} and records it in the group's committed offset.
     *
     * @return which start this is: 1 for the first
     */
    int start(Consumer<String, byte[]> c, ConsumerRecord<String, byte[]> rec) {
        TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
        String key = key(rec);
        int before = local.getOrDefault(key, 0);
        if (!owned.contains(tp)) {
            try {
                before = Math.max(before, previous(c.committed(Set.of(tp)).get(tp), rec.offset()));
            } catch (KafkaException e) {
                LOG.warnf("cannot read the committed offset of %s (%s); counting attempts of %s@%d from memory", tp,
                        e.toString(), tp, rec.offset());
            }
        }
        int attempt = before + 1;
        local.put(key, attempt);
        try {
            c.commitSync(Map.of(tp, new OffsetAndMetadata(rec.offset(), metadata(attempt, rec.offset()))));
            owned.add(tp);
        } catch (KafkaException e) {
            owned.remove(tp);
            LOG.warnf("cannot record attempt %d of %s@%d (%s); another replica may count it from 1", attempt, tp,
                    rec.offset(), e.toString());
        }
        return attempt;
    }

    /** Partitions assigned or taken away: their committed offsets may be another replica's now. */
    void forget(java.util.Collection<TopicPartition> partitions) {
        owned.removeAll(partitions);
    }

    /** The record was committed past: its count is no longer needed. */
    void done(ConsumerRecord<String, byte[]> rec) {
        local.remove(key(rec));
    }

    static String metadata(int attempt, long offset) {
        return "attempt=" + attempt + ";offset=" + offset;
    }

    /** The starts {@code committed} records for the record at {@code offset}; 0 when it is about another. */
    static int previous(OffsetAndMetadata committed, long offset) {
        if (committed == null || committed.offset() != offset || committed.metadata() == null) {
            return 0;
        }
        int attempt = 0;
        long at = -1;
        for (String part : committed.metadata().split(";")) {
            int eq = part.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String value = part.substring(eq + 1).trim();
            try {
                switch (part.substring(0, eq).trim()) {
                    case "attempt" -> attempt = Integer.parseInt(value);
                    case "offset" -> at = Long.parseLong(value);
                    default -> {
                    }
                }
            } catch (NumberFormatException e) {
                return 0;
            }
        }
        return at == offset ? Math.max(0, attempt) : 0;
    }

    private static String key(ConsumerRecord<String, byte[]> rec) {
        return rec.topic() + "-" + rec.partition() + "@" + rec.offset();
    }
}
