package io.unclip.service.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.StageTimings;
import io.unclip.engine.schedule.QueueFullException;
import io.unclip.service.stage.TaskContext;

/**
 * A worker with several records in flight on one partition: they run at once, finish in any
 * order, and the committed offset never passes one that has not written its output; a stage
 * without room puts the record back instead of refusing it; a replica stopped with records in
 * flight leaves each of them to the next one, which gives every job its result.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InFlightTest {
    static final Duration WAIT = OnePartitionBroker.WAIT;

    OnePartitionBroker broker;
    @TempDir
    Path results;

    @BeforeAll
    void start() {
        broker = new OnePartitionBroker();
    }

    @AfterAll
    void stop() {
        broker.close();
    }

    /** A decoder whose runs wait until the test releases their job (or the replica stops). */
    static final class Gated implements StageHandler {
        final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
        final Set<String> runningNow = ConcurrentHashMap.newKeySet();
        final AtomicInteger mostAtOnce = new AtomicInteger();
        final List<String> started = new java.util.concurrent.CopyOnWriteArrayList<>();

        CountDownLatch gate(String job) {
            return gates.computeIfAbsent(job, j -> new CountDownLatch(1));
        }

        void release(String job) {
            gate(job).countDown();
        }

        @Override
        public StageName stage() {
            return StageName.DECODER;
        }

        @Override
        public Outcome handle(StageTask task, TaskContext ctx) throws Exception {
            String job = task.getJobId();
            started.add(job);
            runningNow.add(job);
            mostAtOnce.accumulateAndGet(runningNow.size(), Math::max);
            try {
                while (!gate(job).await(10, TimeUnit.MILLISECONDS)) {
                    if (ctx.cancelled()) {
                        throw new TaskCancelledException("replica stopping");
                    }
                }
            } finally {
                runningNow.remove(job);
            }
            return Outcome.done(JobResult.newBuilder().setJobId(job).setStatus(JobState.SUCCEEDED).build(),
                    StageTimings.newBuilder().setStage(StageName.DECODER).build());
        }
    }

    StageWorker.Config config(String topic, String group, String instance, int inFlight) {
        return new StageWorker.Config(StageName.DECODER, Map.of(topic, TaskReader.stageTasks(StageName.DECODER)),
                group, instance, 3, Duration.ofMillis(300), inFlight);
    }

    List<Long> send(String topic, List<String> jobs) throws Exception {
        List<Long> offsets = new ArrayList<>();
        for (String j : jobs) {
            offsets.add(broker.send(topic, j, StageWorkerTest.task(j, StageName.DECODER, false).toByteArray()).offset());
        }
        return offsets;
    }

    OffsetAndMetadata committed(String group, String topic) throws Exception {
        try (Admin admin = Admin.create(broker.settings.admin("test-admin"))) {
            return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                    .get(new TopicPartition(topic, 0));
        }
    }

    /** Waits until the group's committed offset is {@code offset}, and returns its metadata. */
    String awaitCommitted(String group, String topic, long offset) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        OffsetAndMetadata c = null;
        while (System.nanoTime() < deadline) {
            c = committed(group, topic);
            if (c != null && c.offset() == offset) {
                return c.metadata();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("committed offset " + (c == null ? "none" : c.offset()) + ", expected " + offset);
    }

    static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting: " + what);
            Thread.sleep(10);
        }
    }

    @Test
    void recordsRunTogetherFinishInAnyOrderAndCommitOnlyUpToTheOldestUnfinished() throws Exception {
        String topic = "test.in-flight";
        broker.topic(topic);
        Gated handler = new Gated();
        try (TopicTail res = new TopicTail(broker.settings, Topics.RESULTS);
             WorkerStack w = broker.worker(broker.settings, config(topic, "in-flight", "w", 3), handler, results)) {
            List<Long> at = send(topic, List.of("k1", "k2", "k3", "k4"));
            awaitTrue(() -> handler.runningNow.size() == 3, "three records running");
            Thread.sleep(300);
            // the three run on their own threads, so they may start in any order
            assertEquals(List.of("k1", "k2", "k3"), handler.started.stream().sorted().toList(),
                    "the window holds 3; k4 waits");

            handler.release("k2"); // finishes first: its result is written, the commit stays at k1
            res.await(TopicTail.key("k2"), 1, WAIT);
            awaitTrue(() -> handler.started.contains("k4"), "k4 started in k2's place");
            String meta = awaitCommitted("in-flight", topic, at.get(0));
            assertEquals(Map.of(at.get(0), 1, at.get(2), 1, at.get(3), 1), CommitLedger.previous(
                    new OffsetAndMetadata(at.get(0), meta)), "start counts of the unfinished records: " + meta);

            handler.release("k1"); // now k3 is the oldest unfinished
            res.await(TopicTail.key("k1"), 1, WAIT);
            awaitCommitted("in-flight", topic, at.get(2));

            handler.release("k4");
            res.await(TopicTail.key("k4"), 1, WAIT);
            awaitCommitted("in-flight", topic, at.get(2));
            handler.release("k3");
            res.await(TopicTail.key("k3"), 1, WAIT);
            awaitCommitted("in-flight", topic, at.get(3) + 1);
            assertEquals(3, handler.mostAtOnce.get());
            for (String j : List.of("k1", "k2", "k3", "k4")) {
                assertEquals(1, res.settle(TopicTail.key(j), Duration.ZERO).size(), j + ": one result");
            }
        }
    }

    @Test
    void aReplicaStoppedWithRecordsInFlightLeavesEachToTheNextAndEveryJobGetsItsResult() throws Exception {
        String topic = "test.in-flight-killed";
        broker.topic(topic);
        Gated first = new Gated();
        List<String> jobs = List.of("m1", "m2", "m3", "m4", "m5");
        try (TopicTail res = new TopicTail(broker.settings, Topics.RESULTS)) {
            List<Long> at;
            try (WorkerStack w = broker.worker(broker.settings, config(topic, "in-flight-killed", "a", 3), first,
                    results)) {
                at = send(topic, jobs);
                awaitTrue(() -> first.runningNow.size() == 3, "three records running");
                first.release("m2"); // out of order, before the replica goes: its output is written
                res.await(TopicTail.key("m2"), 1, WAIT);
                awaitTrue(() -> first.runningNow.size() == 3, "m4 started in m2's place");
                assertEquals(at.get(0), committed("in-flight-killed", topic).offset());
            } // stops with m1, m3, m4 running: they write nothing and are not committed
            assertEquals(at.get(0), committed("in-flight-killed", topic).offset(), "nothing committed past m1");

            Gated second = new Gated();
            jobs.forEach(second::release);
            try (WorkerStack w = broker.worker(broker.settings, config(topic, "in-flight-killed", "b", 3), second,
                    results)) {
                for (String j : jobs) {
                    JobResult r = JobResult.parseFrom(res.await(TopicTail.key(j), 1, WAIT).get(0).value());
                    assertEquals(JobState.SUCCEEDED, r.getStatus(), j);
                }
                awaitCommitted("in-flight-killed", topic, at.get(4) + 1);
            }
            Map<String, Integer> counts = new HashMap<>();
            for (ConsumerRecord<String, byte[]> r : res.settle(rec -> jobs.contains(rec.key()), Duration.ofMillis(500))) {
                counts.merge(r.key(), 1, Integer::sum);
            }
            // m2 finished out of order before the stop, above the committed offset: run again, its
            // duplicate result (identical, at-least-once) is dropped by result consumers
            assertEquals(Map.of("m1", 1, "m2", 2, "m3", 1, "m4", 1, "m5", 1), counts);
        }
    }

    @Test
    void aStageWithoutRoomGetsTheRecordAgainLaterInsteadOfRefusingIt() throws Exception {
        String topic = "test.no-room";
        broker.topic(topic);
        AtomicInteger calls = new AtomicInteger();
        StageHandler full = new StageHandler() {
            @Override
            public StageName stage() {
                return StageName.DECODER;
            }

            @Override
            public Outcome handle(StageTask task, TaskContext ctx) {
                if (calls.incrementAndGet() <= 2) {
                    throw new QueueFullException("decoder", 256); // gRPC calls hold the scheduler's queue
                }
                return Outcome.done(JobResult.newBuilder().setJobId(task.getJobId()).setStatus(JobState.SUCCEEDED)
                        .build(), StageTimings.newBuilder().setStage(StageName.DECODER).build());
            }
        };
        try (TopicTail res = new TopicTail(broker.settings, Topics.RESULTS);
             TopicTail dead = new TopicTail(broker.settings, Topics.DEAD_LETTER);
             WorkerStack w = broker.worker(broker.settings, config(topic, "no-room", "w", 2), full, results)) {
            List<Long> at = send(topic, List.of("r1"));
            JobResult r = JobResult.parseFrom(res.await(TopicTail.key("r1"), 1, WAIT).get(0).value());
            assertEquals(JobState.SUCCEEDED, r.getStatus());
            assertEquals(3, calls.get(), "refused twice, then run");
            String meta = awaitCommitted("no-room", topic, at.get(0) + 1);
            assertTrue(dead.settle(TopicTail.key("r1"), Duration.ofMillis(200)).isEmpty(), "not dead-lettered");
            assertTrue(meta.startsWith("starts="), meta);
        }
    }
}
