package io.unclip.service.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageName;
import io.unclip.service.codec.ResultJson;

/**
 * Job ids at the jobs door: a record key, when present, must be the job id; a known id submitted
 * again with another request is rejected (ALREADY_EXISTS) without touching the first job's
 * result; the same request again is an idempotent duplicate.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobIdsTest {
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

    static byte[] json(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static JsonNode parse(org.apache.kafka.clients.consumer.ConsumerRecord<String, byte[]> r) {
        return ResultJson.parse(r.value());
    }

    @Test
    void keyMismatchesAndConflictingDuplicatesAreRejected() throws Exception {
        StageWorker.Config config = StageWorker.Config.of(StageName.TEXT_ENCODER, "t1")
                .withReader(Topics.JOBS, TaskReader.jobs());
        try (WorkerStack w = broker.worker(broker.settings, config, new StageWorkerTest.FakeFinisher(), results);
             TopicTail res = new TopicTail(broker.settings, Topics.RESULTS);
             TopicTail dead = new TopicTail(broker.settings, Topics.DEAD_LETTER)) {
            broker.send(Topics.JOBS, "key-1", json("{\"job_id\": \"body-1\", \"prompt\": \"a red circle\", \"seed\": 1}"));
            broker.send(Topics.JOBS, "pkey-1", JobRequest.newBuilder().setJobId("pbody-1")
                    .setGenerate(GenerateRequest.newBuilder().setPrompt("a red circle").setSeed(1)).build().toByteArray());
            broker.send(Topics.JOBS, null, json("{\"job_id\": \"nokey-1\", \"prompt\": \"a red circle\", \"seed\": 1}"));
            broker.send(Topics.JOBS, "dup-1", json("{\"job_id\": \"dup-1\", \"prompt\": \"a red circle\", \"seed\": 1}"));
            broker.send(Topics.JOBS, "dup-1", json("{\"job_id\": \"dup-1\", \"prompt\": \"a blue square\", \"seed\": 2}"));
            broker.send(Topics.JOBS, "dup-1", json("{\"seed\": 1, \"job_id\": \"dup-1\", \"prompt\": \"a red circle\"}"));
            broker.send(Topics.JOBS, "end-1", json("{\"job_id\": \"end-1\", \"prompt\": \"a red circle\"}"));
            res.await(TopicTail.key("end-1"), 1, WAIT);
            res.settle(r -> true, Duration.ofMillis(500));

            // key and body disagree: failed under the body's id, naming both; nothing under the key
            List<JsonNode> body = res.settle(TopicTail.key("body-1"), Duration.ZERO).stream().map(JobIdsTest::parse).toList();
            assertEquals(1, body.size());
            assertEquals("FAILED", body.get(0).get("status").asText());
            assertEquals("INVALID_REQUEST", body.get(0).get("error").get("code").asText());
            assertEquals("job_id", body.get(0).get("error").get("field").asText());
            assertTrue(body.get(0).get("error").get("message").asText().contains("key-1"), body.get(0).toString());
            assertTrue(res.settle(TopicTail.key("key-1"), Duration.ZERO).isEmpty());
            assertEquals(1, dead.await(TopicTail.key("body-1"), 1, WAIT).size());
            JobResult pb = JobResult.parseFrom(res.settle(TopicTail.key("pbody-1"), Duration.ZERO).get(0).value());
            assertEquals(JobState.FAILED, pb.getStatus());
            assertTrue(pb.getError().getMessage().contains("pkey-1"), pb.getError().getMessage());

            // no key is fine
            assertEquals("SUCCEEDED", parse(res.settle(TopicTail.key("nokey-1"), Duration.ZERO).get(0)).get("status").asText());

            // dup-1: the first job's result, then the conflict's failure (the identical third one is dropped)
            List<JsonNode> dup = res.settle(TopicTail.key("dup-1"), Duration.ZERO).stream().map(JobIdsTest::parse).toList();
            assertEquals(2, dup.size(), dup.toString());
            assertEquals("SUCCEEDED", dup.get(0).get("status").asText());
            assertEquals(1, dup.get(0).get("seed").asLong());
            assertEquals("FAILED", dup.get(1).get("status").asText());
            assertEquals("ALREADY_EXISTS", dup.get(1).get("error").get("code").asText());
            assertTrue(dup.get(1).get("error").get("message").asText().contains("already submitted"), dup.get(1).toString());
            dead.await(TopicTail.key("dup-1"), 1, WAIT);
            List<DeadLetter> dls = dead.settle(TopicTail.key("dup-1"), Duration.ofMillis(500)).stream().map(r -> {
                try {
                    return DeadLetter.parseFrom(r.value());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }).toList();
            assertEquals(1, dls.size());
            assertEquals(FailureCode.ALREADY_EXISTS, dls.get(0).getCode());
            assertTrue(dls.get(0).getValue().toStringUtf8().contains("a blue square"), "the rejected submission is kept");
        }
    }
}
