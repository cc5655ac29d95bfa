package io.unclip.service.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.StageTimings;
import io.unclip.service.stage.TaskContext;

/**
 * A record redelivered to another replica (its first owner stopped before committing) counts as
 * a new attempt, across replicas, through the group's committed offset metadata.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedeliveryTest {
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

    /** A decoder that hangs on its first run (until its replica stops) and finishes the job on later ones. */
    static final class HangsOnce implements StageHandler {
        final CountDownLatch started = new CountDownLatch(1);
        final AtomicInteger runs = new AtomicInteger();

        @Override
        public StageName stage() {
            return StageName.DECODER;
        }

        @Override
        public Outcome handle(StageTask task, TaskContext ctx) throws Exception {
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                while (!ctx.cancelled()) {
                    Thread.sleep(10);
                }
                throw new TaskCancelledException("replica stopping");
            }
            return Outcome.done(JobResult.newBuilder().setJobId(task.getJobId()).setStatus(JobState.SUCCEEDED).build(),
                    StageTimings.newBuilder().setStage(StageName.DECODER).build());
        }
    }

    StageWorker.Config config(String topic, String group, String instance) {
        return new StageWorker.Config(StageName.DECODER, Map.of(topic, TaskReader.stageTasks(StageName.DECODER)),
                group, instance, 3, Duration.ofMillis(200), 4);
    }

    @Test
    void aTaskRedeliveredToAnotherReplicaReportsAttempt2() throws Exception {
        String topic = "test.redelivered";
        broker.topic(topic);
        HangsOnce handler = new HangsOnce();
        try (TopicTail events = new TopicTail(broker.settings, Topics.EVENTS);
             TopicTail res = new TopicTail(broker.settings, Topics.RESULTS)) {
            try (WorkerStack first = broker.worker(broker.settings, config(topic, "redelivery", "first"), handler, results)) {
                broker.send(topic, "redo-1", StageWorkerTest.task("redo-1", StageName.DECODER, false).toByteArray());
                assertTrue(handler.started.await(30, TimeUnit.SECONDS));
            } // stops mid-task: the record is left uncommitted, as by a replica that died
            try (WorkerStack second = broker.worker(broker.settings, config(topic, "redelivery", "second"), handler,
                    results)) {
                JobResult r = JobResult.parseFrom(res.await(TopicTail.key("redo-1"), 1, WAIT).get(0).value());
                assertEquals(JobState.SUCCEEDED, r.getStatus());
            }
            List<Integer> attempts = events.await(r -> "redo-1".equals(r.key())
                            && "stage_started".equals(RecordHeaders.text(r.headers(), RecordHeaders.EVENT)), 2, WAIT)
                    .stream().map(r -> StageWorkerTest.event(r).getStageStarted().getAttempt()).toList();
            assertEquals(List.of(1, 2), attempts, "stage_started attempts");
            assertEquals(2, handler.runs.get());
        }
    }

    @Test
    void aRecordStartedMaxAttemptsTimesIsGivenUpWithoutRunning() throws Exception {
        String topic = "test.given-up";
        broker.topic(topic);
        RecordMetadata at = broker.send(topic, "doomed-1",
                StageWorkerTest.task("doomed-1", StageName.DECODER, false).toByteArray());
        broker.send(topic, "fine-1", StageWorkerTest.task("fine-1", StageName.DECODER, false).toByteArray());
        // what three replicas that each died running the record leave in the group's committed offset
        try (Admin admin = Admin.create(broker.settings.admin("test-admin"))) {
            admin.alterConsumerGroupOffsets("given-up", Map.of(new TopicPartition(topic, 0),
                    new OffsetAndMetadata(at.offset(), "attempt=3;offset=" + at.offset()))).all().get();
        }
        HangsOnce handler = new HangsOnce();
        handler.runs.set(1); // never hangs: runs finish the job
        try (TopicTail res = new TopicTail(broker.settings, Topics.RESULTS);
             TopicTail dead = new TopicTail(broker.settings, Topics.DEAD_LETTER);
             WorkerStack w = broker.worker(broker.settings, config(topic, "given-up", "w"), handler, results)) {
            JobResult fine = JobResult.parseFrom(res.await(TopicTail.key("fine-1"), 1, WAIT).get(0).value());
            assertEquals(JobState.SUCCEEDED, fine.getStatus());
            List<JobResult> doomed = res.settle(TopicTail.key("doomed-1"), Duration.ofSeconds(1)).stream()
                    .map(r -> parse(r.value())).toList();
            assertEquals(1, doomed.size());
            assertEquals(JobState.FAILED, doomed.get(0).getStatus());
            assertEquals(FailureCode.DEAD_LETTERED, doomed.get(0).getError().getCode());
            assertTrue(doomed.get(0).getError().getMessage().contains("3 attempts"), doomed.get(0).getError().getMessage());
            DeadLetter dl = DeadLetter.parseFrom(dead.await(TopicTail.key("doomed-1"), 1, WAIT).get(0).value());
            assertEquals(at.offset(), dl.getOffset());
            assertEquals(2, handler.runs.get(), "only fine-1 ran");
        }
    }

    static JobResult parse(byte[] b) {
        try {
            return JobResult.parseFrom(b);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
