package io.unclip.textencoder;

import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.unclip.api.v1.EncodeRequest;
import io.unclip.api.v1.TextEncoderServiceGrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.ResultFormat;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.kafka.testkit.TopicProbe;
import io.unclip.kafka.testkit.WorkerTestBase;
import io.unclip.kafka.testkit.WorkerTestProfile;
import io.unclip.service.codec.ResultJson;
import io.unclip.service.kafka.Topics;

/**
 * The text encoder's worker (and jobs bridge) on a real broker with the tiny bundle: a task or a
 * JSON batch job becomes the prior's task with both conditionings and the resolved size; bad
 * jobs (malformed JSON, words outside the vocabulary, a size the bundle cannot make) fail with
 * a reason, in the submitter's format, and the next job runs.
 */
@QuarkusTest
@TestProfile(WorkerTestProfile.class)
class TextEncoderWorkerTest extends WorkerTestBase {
    TextEncoderWorkerTest() {
        super(Topics.PRIOR, Topics.DECODER, Topics.RESULTS, Topics.DEAD_LETTER);
    }

    static byte[] json(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void tasksAndJsonJobsBecomePriorTasks() throws Exception {
        StageTask t = StageTask.newBuilder().setJobId("te-1").setStage(StageName.TEXT_ENCODER).setAttempt(1)
                .setRequest(JobRequest.newBuilder().setJobId("te-1").setGenerate(GenerateRequest.newBuilder()
                        .setPrompt("a red circle").setSeed(5).setNumImages(2))).build();
        kafka.send(Topics.TEXT_ENCODER, "te-1", t.toByteArray());
        kafka.send(Topics.JOBS, "json-bad", json("{\"job_id\": \"json-bad\", \"prompt\": \"a red"));
        kafka.send(Topics.JOBS, "json-vocab", json("{\"job_id\": \"json-vocab\", \"prompt\": \"a zeppelin\"}"));
        kafka.send(Topics.JOBS, "json-size", json("{\"job_id\": \"json-size\", \"prompt\": \"a red circle\", \"size\": 64}"));
        kafka.send(Topics.JOBS, "json-1", json("{\"job_id\": \"json-1\", \"prompt\": \"a red circle\", \"seed\": 1,"
                + " \"num_images\": 1, \"size\": 32, \"prior\": {\"steps\": 10}, \"unknown\": [1, 2]}"));

        StageTask p = StageTask.parseFrom(kafka.first(Topics.PRIOR, "te-1", WAIT).value());
        assertEquals(StageName.PRIOR, p.getStage());
        assertEquals(List.of(16L), p.getInputs().getText().getTextEmbeds().getShapeList());
        assertEquals(List.of(24L, 16L), p.getInputs().getText().getLastHiddenState().getShapeList());
        assertEquals(24, p.getInputs().getUnconditional().getTokenIdsCount());
        assertEquals(128, p.getParams().getSize(), "0 = the bundle's largest");
        assertEquals("tiny@1.0.0", p.getParams().getModelBundle());
        assertEquals(StageName.TEXT_ENCODER, p.getTimings(0).getStage());

        var jsonTask = kafka.first(Topics.PRIOR, "json-1", WAIT);
        StageTask j = StageTask.parseFrom(jsonTask.value());
        assertEquals(1, j.getRequest().getGenerate().getSeed());
        assertEquals(10, j.getRequest().getGenerate().getPrior().getSteps());
        assertEquals(32, j.getParams().getSize());
        assertEquals(ResultFormat.JSON, j.getRequest().getResultFormat());
        assertEquals("json", TopicProbe.header(jsonTask, "unclip-result-format"));

        Map<String, String> expected = Map.of(
                "json-bad", "DEAD_LETTERED",
                "json-vocab", "INVALID_REQUEST",
                "json-size", "INVALID_REQUEST");
        for (var e : expected.entrySet()) {
            JsonNode r = ResultJson.parse(kafka.first(Topics.RESULTS, e.getKey(), WAIT).value());
            assertEquals("FAILED", r.get("status").asText(), r.toString());
            assertEquals(e.getValue(), r.get("error").get("code").asText(), r.toString());
            DeadLetter dl = DeadLetter.parseFrom(kafka.first(Topics.DEAD_LETTER, e.getKey(), WAIT).value());
            assertEquals(r.get("error").get("message").asText(), dl.getReason());
        }
        JsonNode vocab = ResultJson.parse(kafka.first(Topics.RESULTS, "json-vocab", WAIT).value());
        assertTrue(vocab.get("error").get("message").asText().contains("'zeppelin'"), vocab.toString());
        JsonNode size = ResultJson.parse(kafka.first(Topics.RESULTS, "json-size", WAIT).value());
        assertEquals("size", size.get("error").get("field").asText());

        // a protobuf job on unclip.jobs works too, and its failures are protobuf
        kafka.send(Topics.JOBS, "pb-1", JobRequest.newBuilder().setJobId("pb-1").setGenerate(GenerateRequest
                .newBuilder().setPrompt("   ")).build().toByteArray());
        JobResult pb = JobResult.parseFrom(kafka.first(Topics.RESULTS, "pb-1", WAIT).value());
        assertEquals(JobState.FAILED, pb.getStatus());
        assertEquals(FailureCode.INVALID_REQUEST, pb.getError().getCode());
        assertEquals("prompt", pb.getError().getField());
    }

    static com.google.protobuf.ByteString png(int w, int h) {
        return com.google.protobuf.ByteString.copyFrom(io.unclip.engine.image.PngCodec.withDefaultLimits()
                .encode(io.unclip.engine.tensor.Tensor.zeros(1, 3, h, w), 0, Map.of()));
    }

    @Test
    void variationsAndInterpolationsSkipThePriorWithImageEmbeddings() throws Exception {
        kafka.send(Topics.JOBS, "var-1", JobRequest.newBuilder().setJobId("var-1").setVariations(
                io.unclip.api.v1.VariationsRequest.newBuilder().setImage(png(40, 30)).setNumImages(3).setSize(32))
                .build().toByteArray());
        kafka.send(Topics.JOBS, "int-1", JobRequest.newBuilder().setJobId("int-1").setInterpolate(
                io.unclip.api.v1.InterpolateRequest.newBuilder().setImageA(png(40, 40)).setImageB(png(20, 20))
                        .setFrames(4).setSeed(2)).build().toByteArray());
        kafka.send(Topics.JOBS, "int-towards", JobRequest.newBuilder().setJobId("int-towards").setInterpolate(
                io.unclip.api.v1.InterpolateRequest.newBuilder().setImageA(png(40, 40)).setTowardsPrompt("a red circle")
                        .setSeed(2)).build().toByteArray());

        StageTask v = StageTask.parseFrom(kafka.first(Topics.DECODER, "var-1", WAIT).value());
        assertEquals(List.of(3L, 16L), v.getInputs().getImageEmbeds().getShapeList(), "one embedding per variation");
        assertTrue(!v.getInputs().hasText(), "no prompt: unconditional text only");
        assertTrue(v.getInputs().hasUnconditional());
        assertTrue(v.getRequest().getVariations().hasSeed(), "the seed is resolved from the job id");
        assertEquals(32, v.getParams().getSize());

        StageTask f = StageTask.parseFrom(kafka.first(Topics.DECODER, "int-1", WAIT).value());
        assertEquals(List.of(4L, 16L), f.getInputs().getImageEmbeds().getShapeList(), "one embedding per frame");
        assertTrue(kafka.settle(TopicProbe.on(Topics.PRIOR, "var-1"), java.time.Duration.ZERO).isEmpty());

        JobResult towards = JobResult.parseFrom(kafka.first(Topics.RESULTS, "int-towards", WAIT).value());
        assertEquals(JobState.FAILED, towards.getStatus());
        assertEquals("towards_prompt", towards.getError().getField());
    }

    @Test
    void grpcEncode() {
        var channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            var stub = TextEncoderServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, java.util.concurrent.TimeUnit.SECONDS);
            var reply = stub.encode(EncodeRequest.newBuilder().addPrompts("a red circle").addPrompts("a blue square")
                    .setIncludeUnconditional(true).build());
            assertEquals(2, reply.getEncodingsCount());
            assertEquals(List.of(24L, 16L), reply.getEncodings(1).getLastHiddenState().getShapeList());
            assertTrue(reply.hasUnconditional());
            StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                    () -> stub.encode(EncodeRequest.newBuilder().addPrompts("a red circle").addPrompts("a zeppelin").build()));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().startsWith("prompts[1]: "), e.getStatus().getDescription());
        } finally {
            channel.shutdownNow();
        }
    }
}
