package io.unclip.service.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;

import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.GeneratedImage;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.StageTimings;
import io.unclip.service.codec.ResultJson;
import io.unclip.service.stage.TaskContext;

/**
 * A record that cannot be processed never blocks its partition: whatever happens to its dead
 * letter or its outputs, it is committed after at most the configured attempts, its job gets one
 * failed result, and the records behind it run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PoisonRecordTest {
    static final Duration WAIT = OnePartitionBroker.WAIT;
    /** The worker's producer refuses records larger than this (the test's own producer does not). */
    static final int WORKER_MAX_REQUEST = 100_000;

    OnePartitionBroker broker;
    KafkaSettings workerSettings;
    @TempDir
    Path results;

    @BeforeAll
    void start() {
        broker = new OnePartitionBroker();
        workerSettings = new KafkaSettings(broker.settings.bootstrapServers(), 6000,
                Map.of("max.request.size", Integer.toString(WORKER_MAX_REQUEST)));
    }

    @AfterAll
    void stop() {
        broker.close();
    }

    @Test
    void aJobTooLargeToDeadLetterWholeIsDeadLetteredTruncatedAndFailedOnce() throws Exception {
        StageWorker.Config config = new StageWorker.Config(StageName.TEXT_ENCODER,
                Map.of(Topics.JOBS, TaskReader.jobs()), "poison-jobs", "t1", 3, Duration.ofSeconds(2), 4);
        try (WorkerStack w = broker.worker(workerSettings, config, new StageWorkerTest.FakeFinisher(), results);
             TopicTail res = new TopicTail(broker.settings, Topics.RESULTS);
             TopicTail dead = new TopicTail(broker.settings, Topics.DEAD_LETTER)) {
            char[] prompt = new char[WORKER_MAX_REQUEST + 1000];
            Arrays.fill(prompt, 'a');
            byte[] poison = ("{\"job_id\": \"poison-1\", \"prompt\": \"" + new String(prompt) + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            RecordMetadata at = broker.send(Topics.JOBS, "poison-1", poison);
            broker.send(Topics.JOBS, "after-poison", ("{\"job_id\": \"after-poison\", \"prompt\": \"a red circle\", "
                    + "\"seed\": 1}").getBytes(StandardCharsets.UTF_8));

            JsonNode good = ResultJson.parse(res.await(TopicTail.key("after-poison"), 1, WAIT).get(0).value());
            assertEquals("SUCCEEDED", good.get("status").asText(), "the job behind the poison record ran");

            List<ConsumerRecord<String, byte[]>> failed = res.settle(TopicTail.key("poison-1"), Duration.ofSeconds(3));
            assertEquals(1, failed.size(), "one failed result for the poison job");
            JsonNode f = ResultJson.parse(failed.get(0).value());
            assertEquals("FAILED", f.get("status").asText());
            assertEquals("prompt", f.get("error").get("field").asText(), f.toString());

            dead.await(TopicTail.key("poison-1"), 1, WAIT);
            List<ConsumerRecord<String, byte[]>> dls = dead.settle(TopicTail.key("poison-1"), Duration.ofMillis(500));
            assertEquals(1, dls.size(), "one dead letter");
            DeadLetter dl = DeadLetter.parseFrom(dls.get(0).value());
            assertTrue(dl.getValueTruncated());
            assertEquals(poison.length, dl.getValueSize());
            assertEquals(DeadLetters.MAX_VALUE_BYTES, dl.getValue().size());
            assertEquals(ByteString.copyFrom(poison, 0, DeadLetters.MAX_VALUE_BYTES), dl.getValue(), "a prefix");
            assertEquals(Topics.JOBS, dl.getTopic());
            assertEquals(at.partition(), dl.getPartition());
            assertEquals(at.offset(), dl.getOffset());
            assertEquals("poison-1", dl.getJobId());
            assertTrue(dl.getReason().startsWith("prompt"), dl.getReason());
        }
    }

    @Test
    void aDeadLetterThatCannotBeWrittenStillLetsTheRecordGo() throws Exception {
        String topic = "test.jobs-dl-lost";
        broker.topic(topic);
        KafkaSettings tight = new KafkaSettings(broker.settings.bootstrapServers(), 6000,
                Map.of("max.request.size", "50000")); // below the dead letter even when cut to 64 KiB
        StageWorker.Config config = new StageWorker.Config(StageName.TEXT_ENCODER, Map.of(topic, TaskReader.jobs()),
                "poison-dl-lost", "t3", 3, Duration.ofSeconds(2), 4);
        try (WorkerStack w = broker.worker(tight, config, new StageWorkerTest.FakeFinisher(), results);
             TopicTail res = new TopicTail(broker.settings, Topics.RESULTS);
             TopicTail dead = new TopicTail(broker.settings, Topics.DEAD_LETTER)) {
            char[] prompt = new char[60_000];
            Arrays.fill(prompt, 'b');
            broker.send(topic, "poison-2", ("{\"job_id\": \"poison-2\", \"prompt\": \"" + new String(prompt) + "\"}")
                    .getBytes(StandardCharsets.UTF_8));
            broker.send(topic, "after-poison-2", StageWorkerTest.task("after-poison-2", StageName.TEXT_ENCODER, false)
                    .getRequest().toByteArray());

            JobResult good = JobResult.parseFrom(res.await(TopicTail.key("after-poison-2"), 1, WAIT).get(0).value());
            assertEquals(JobState.SUCCEEDED, good.getStatus(), "the job behind the poison record ran");
            res.await(TopicTail.key("poison-2"), 1, WAIT); // the records behind it ran meanwhile (several in flight)
            List<ConsumerRecord<String, byte[]>> failed = res.settle(TopicTail.key("poison-2"), Duration.ofSeconds(1));
            assertEquals(1, failed.size(), "one failed result, though its dead letter was never written");
            assertEquals(JobState.FAILED, JobResult.parseFrom(failed.get(0).value()).getStatus());
            assertTrue(dead.settle(TopicTail.key("poison-2"), Duration.ofMillis(500)).isEmpty());
        }
    }

    /** Finishes every job; a "huge-" job's result is too large for the worker's producer. */
    static final class HugeResults implements StageHandler {
        final AtomicInteger hugeRuns = new AtomicInteger();

        @Override
        public StageName stage() {
            return StageName.TEXT_ENCODER;
        }

        @Override
        public Outcome handle(StageTask task, TaskContext ctx) {
            JobResult.Builder r = JobResult.newBuilder().setJobId(task.getJobId()).setStatus(JobState.SUCCEEDED);
            if (task.getJobId().startsWith("huge-")) {
                hugeRuns.incrementAndGet();
                r.addImages(GeneratedImage.newBuilder().setImage(ImageRef.newBuilder()
                        .setPng(ByteString.copyFrom(new byte[WORKER_MAX_REQUEST * 2]))));
            }
            return Outcome.done(r.build(), StageTimings.newBuilder().setStage(StageName.TEXT_ENCODER).build());
        }
    }

    @Test
    void outputsThatCannotBeWrittenAreGivenUpAfterMaxAttempts() throws Exception {
        String topic = "test.unwritable";
        broker.topic(topic);
        HugeResults handler = new HugeResults();
        StageWorker.Config config = new StageWorker.Config(StageName.TEXT_ENCODER,
                Map.of(topic, TaskReader.stageTasks(StageName.TEXT_ENCODER)), "poison-outputs", "t2", 3,
                Duration.ofSeconds(2), 4);
        try (WorkerStack w = broker.worker(workerSettings, config, handler, results);
             TopicTail res = new TopicTail(broker.settings, Topics.RESULTS)) {
            broker.send(topic, "huge-1", StageWorkerTest.task("huge-1", StageName.TEXT_ENCODER, false).toByteArray());
            broker.send(topic, "small-1", StageWorkerTest.task("small-1", StageName.TEXT_ENCODER, false).toByteArray());

            JobResult good = JobResult.parseFrom(res.await(TopicTail.key("small-1"), 1, WAIT).get(0).value());
            assertEquals(JobState.SUCCEEDED, good.getStatus(), "the task behind the stuck one ran");
            res.await(TopicTail.key("huge-1"), 1, WAIT); // the records behind it ran meanwhile (several in flight)
            List<ConsumerRecord<String, byte[]>> huge = res.settle(TopicTail.key("huge-1"), Duration.ofSeconds(1));
            assertEquals(1, huge.size(), "one result for the stuck job");
            JobResult failed = JobResult.parseFrom(huge.get(0).value());
            assertEquals(JobState.FAILED, failed.getStatus());
            assertTrue(failed.getError().getMessage().contains("3 attempts"), failed.getError().getMessage());
            assertEquals(3, handler.hugeRuns.get(), "run at most maxAttempts times");
        }
    }
}
