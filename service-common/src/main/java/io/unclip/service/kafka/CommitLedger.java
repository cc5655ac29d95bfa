package io.unclip.service.kafka;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * What a worker with several records in flight commits for each partition: the offset of its
 * oldest unfinished record (out-of-order completion, in-order commit), with how many times each
 * unfinished record was started, across the replicas of the group, as the offset's metadata
 * ({@code starts=17:1,19:2}).
 *
 * <p>A record counts as unfinished from its first start until its outputs are acknowledged by the
 * broker (the worker calls {@link #finished} only then), so the committed offset never passes a
 * record whose outputs may be missing: commit-after-produce holds for every record, not only for
 * the oldest. A replica that dies leaves its partitions at their oldest unfinished record; the
 * next owner reads from there (records finished out of order above it run again, and their
 * duplicate outputs are dropped downstream) and finds the start counts in the metadata, so a
 * record that stops every replica that runs it is still given up after
 * {@link StageWorker.Config#maxAttempts()} starts.
 *
 * <p>Why not a library: SmallRye's throttled strategy and Confluent's parallel consumer both track
 * out-of-order completion, but the parallel consumer owns the offset metadata (its encoding of
 * completed offsets), which is where these start counts live, and SmallRye's strategy lives in
 * Reactive Messaging's connector, which the workers do not use (they own their consumer to pause,
 * seek and count starts). What is left is a sorted map per partition.
 *
 * <p>The metadata is read once per partition after it is assigned; from then on the group's
 * committed offset of that partition is this replica's own. Poll thread only (the consumer is not
 * thread-safe).
 */
final class CommitLedger {
    private static final Logger LOG = Logger.getLogger(CommitLedger.class);

    /**
     * Per partition: unfinished offsets and their starts, those of them running on this replica,
     * and the offset after the newest finished.
     */
    private static final class Partition {
        final TreeMap<Long, Integer> unfinished = new TreeMap<>();
        final Set<Long> running = new HashSet<>();
        long next = -1;

        /** Where the group resumes: the oldest unfinished record, else the one after the newest finished. */
        long position() {
            return unfinished.isEmpty() ? next : unfinished.firstKey();
        }
    }

    private final Map<TopicPartition, Partition> partitions = new HashMap<>();
    /** Partitions whose committed offset this replica wrote last since they were assigned to it. */
    private final Set<TopicPartition> owned = new HashSet<>();

    /**
     * Counts a start of {@code rec} and records it in the group's committed offset.
     *
     * @return which start this is: 1 for the first
     */
    int start(Consumer<String, byte[]> c, ConsumerRecord<String, byte[]> rec) {
        TopicPartition tp = partition(rec);
        Partition p = partitions.computeIfAbsent(tp, k -> new Partition());
        if (!owned.contains(tp)) {
            try {
                OffsetAndMetadata committed = c.committed(Set.of(tp)).get(tp);
                if (committed != null) {
                    p.next = Math.max(p.next, committed.offset()); // everything below it is finished
                }
                // counts below this record are of records finished since, or running here (kept)
                previous(committed).forEach((offset, n) -> {
                    if (offset >= rec.offset()) {
                        p.unfinished.merge(offset, n, Math::max);
                    }
                });
            } catch (KafkaException e) {
                LOG.warnf("cannot read the committed offset of %s (%s); counting starts of %s@%d from memory", tp,
                        e.toString(), tp, rec.offset());
            }
        }
        int start = p.unfinished.getOrDefault(rec.offset(), 0) + 1;
        p.unfinished.put(rec.offset(), start);
        p.running.add(rec.offset());
        commit(c, tp, p);
        return start;
    }

    /** A start that did not happen after all (the stage had no room): the next one is counted as this one. */
    void unstart(ConsumerRecord<String, byte[]> rec) {
        Partition p = partitions.get(partition(rec));
        if (p != null) {
            p.running.remove(rec.offset());
            p.unfinished.computeIfPresent(rec.offset(), (o, n) -> n > 1 ? n - 1 : 0);
        }
    }

    /** The record's outputs are written: commit past it as far as nothing older is unfinished. */
    void finished(Consumer<String, byte[]> c, ConsumerRecord<String, byte[]> rec) {
        TopicPartition tp = partition(rec);
        Partition p = partitions.get(tp);
        if (p == null) {
            return;
        }
        p.running.remove(rec.offset());
        if (p.unfinished.remove(rec.offset()) == null) {
            return; // a duplicate of a record finished before
        }
        p.next = Math.max(p.next, rec.offset() + 1);
        commit(c, tp, p);
    }

    /**
     * The record stopped without its outputs (they could not be written, or the replica is
     * stopping): it stays unfinished, so no commit passes it, until it is read and started again.
     */
    void stopped(ConsumerRecord<String, byte[]> rec) {
        Partition p = partitions.get(partition(rec));
        if (p != null) {
            p.running.remove(rec.offset());
        }
    }

    /**
     * Partitions taken away. Records of them still running here keep their entries (the partition
     * may come back, and they must not be passed then); the rest is the next owner's. Their
     * committed offsets are read again when they come back.
     */
    void revoked(Collection<TopicPartition> tps) {
        owned.removeAll(tps);
        for (TopicPartition tp : tps) {
            Partition p = partitions.get(tp);
            if (p != null) {
                p.unfinished.keySet().retainAll(p.running);
                if (p.running.isEmpty()) {
                    partitions.remove(tp);
                }
            }
        }
    }

    /** Partitions assigned: their committed offsets may be another replica's now. */
    void assigned(Collection<TopicPartition> tps) {
        owned.removeAll(tps);
    }

    private void commit(Consumer<String, byte[]> c, TopicPartition tp, Partition p) {
        long position = p.position();
        if (position < 0) {
            return;
        }
        try {
            c.commitSync(Map.of(tp, new OffsetAndMetadata(position, metadata(p.unfinished))));
            owned.add(tp);
        } catch (KafkaException e) {
            owned.remove(tp);
            LOG.warnf("cannot commit %s at %d (%s); its records may be read again, and their starts counted from 1"
                    + " by another replica", tp, position, e.toString());
        }
    }

    static String metadata(Map<Long, Integer> starts) {
        StringJoiner j = new StringJoiner(",", "starts=", "");
        starts.forEach((offset, n) -> j.add(offset + ":" + n));
        return j.toString();
    }

    /**
     * The start counts a committed offset's metadata records, by offset: {@code starts=O:N,...}, or
     * {@code attempt=N;offset=O} as replicas of the previous version (one record in flight) wrote it.
     * Anything else reads as none.
     */
    static Map<Long, Integer> previous(OffsetAndMetadata committed) {
        Map<Long, Integer> starts = new TreeMap<>();
        if (committed == null || committed.metadata() == null) {
            return starts;
        }
        String m = committed.metadata().trim();
        try {
            if (m.startsWith("starts=")) {
                for (String entry : m.substring("starts=".length()).split(",")) {
                    int colon = entry.indexOf(':');
                    if (colon > 0) {
                        starts.put(Long.parseLong(entry.substring(0, colon).trim()),
                                Math.max(0, Integer.parseInt(entry.substring(colon + 1).trim())));
                    }
                }
            } else if (m.startsWith("attempt=")) {
                Map<String, String> kv = new HashMap<>();
                for (String part : m.split(";")) {
                    int eq = part.indexOf('=');
                    if (eq > 0) {
                        kv.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
                    }
                }
                if (kv.containsKey("offset")) {
                    starts.put(Long.parseLong(kv.get("offset")), Math.max(0, Integer.parseInt(kv.get("attempt"))));
                }
            }
        } catch (NumberFormatException e) {
            return new TreeMap<>();
        }
        return starts;
    }

    private static TopicPartition partition(ConsumerRecord<String, byte[]> rec) {
        return new TopicPartition(rec.topic(), rec.partition());
    }
}
