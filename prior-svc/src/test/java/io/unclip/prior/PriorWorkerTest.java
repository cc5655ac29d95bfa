package io.unclip.prior;

import io.grpc.ManagedChannelBuilder;
import io.unclip.api.v1.PriorEvent;
import io.unclip.api.v1.PriorRequest;
import io.unclip.api.v1.PriorServiceGrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.FloatTensor;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageInputs;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.TextConditioning;
import io.unclip.kafka.testkit.TopicProbe;
import io.unclip.kafka.testkit.WorkerTestBase;
import io.unclip.kafka.testkit.WorkerTestProfile;
import io.unclip.service.kafka.Topics;

/**
 * The prior's worker on a real broker with the tiny bundle: text conditioning to N image
 * embeddings on the decoder's task; a task with inconsistent tensors fails with a reason and the
 * next one runs.
 */
@QuarkusTest
@TestProfile(WorkerTestProfile.class)
class PriorWorkerTest extends WorkerTestBase {
    PriorWorkerTest() {
        super(Topics.DECODER, Topics.RESULTS, Topics.DEAD_LETTER);
    }

    static FloatTensor random(Random r, long... shape) {
        FloatTensor.Builder b = FloatTensor.newBuilder();
        long n = 1;
        for (long d : shape) {
            b.addShape(d);
            n *= d;
        }
        for (long i = 0; i < n; i++) {
            b.addData((float) r.nextGaussian());
        }
        return b.build();
    }

    static TextConditioning text(Random r, int hidden) {
        FloatTensor.Builder mask = FloatTensor.newBuilder().addShape(24);
        for (int i = 0; i < 24; i++) {
            mask.addData(i < 4 ? 1f : 0f);
        }
        return TextConditioning.newBuilder().setTextEmbeds(random(r, 16)).setLastHiddenState(random(r, 24, hidden))
                .setAttentionMask(mask).build();
    }

    static StageTask task(String jobId, int hidden) {
        Random r = new Random(jobId.hashCode());
        return StageTask.newBuilder().setJobId(jobId).setStage(StageName.PRIOR).setAttempt(1)
                .setRequest(JobRequest.newBuilder().setJobId(jobId).setGenerate(GenerateRequest.newBuilder()
                        .setPrompt("a red circle").setSeed(9).setNumImages(3)))
                .setInputs(StageInputs.newBuilder().setText(text(r, hidden)).setUnconditional(text(r, hidden)))
                .build();
    }

    @Test
    void textConditioningToImageEmbeddings() throws Exception {
        kafka.send(Topics.PRIOR, "pr-bad", task("pr-bad", 15).toByteArray());
        kafka.send(Topics.PRIOR, "pr-1", task("pr-1", 16).toByteArray());

        StageTask d = StageTask.parseFrom(kafka.first(Topics.DECODER, "pr-1", WAIT).value());
        assertEquals(StageName.DECODER, d.getStage());
        assertEquals(List.of(3L, 16L), d.getInputs().getImageEmbeds().getShapeList());
        assertTrue(d.getInputs().hasText() && d.getInputs().hasUnconditional(), "the decoder needs the text too");
        assertEquals(StageName.PRIOR, d.getTimings(0).getStage());
        assertTrue(d.getTimings(0).getSteps() > 0);

        JobResult bad = JobResult.parseFrom(kafka.first(Topics.RESULTS, "pr-bad", WAIT).value());
        assertEquals(JobState.FAILED, bad.getStatus());
        assertEquals(FailureCode.INVALID_REQUEST, bad.getError().getCode());
        assertEquals(StageName.PRIOR, bad.getError().getStage());
        assertEquals(1, kafka.settle(TopicProbe.on(Topics.DEAD_LETTER, "pr-bad"), Duration.ZERO).size());
    }

    @Test
    void grpcSample() {
        var channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            Random r = new Random(2);
            List<PriorEvent> events = new java.util.ArrayList<>();
            PriorServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, java.util.concurrent.TimeUnit.SECONDS)
                    .sample(PriorRequest.newBuilder().setText(text(r, 16)).setUnconditional(text(r, 16)).setNumImages(2)
                            .setSeed(1).build()).forEachRemaining(events::add);
            PriorEvent last = events.get(events.size() - 1);
            assertEquals(List.of(2L, 16L), last.getImageEmbeds().getShapeList());
            assertTrue(events.get(0).hasProgress());
            assertEquals(StageName.PRIOR, last.getTimings().getStage());
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void grpcCandidatesAreTheSamplerField() {
        var channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            var stub = PriorServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30,
                    java.util.concurrent.TimeUnit.SECONDS);
            TextConditioning t = text(new Random(5), 16);
            java.util.function.IntFunction<float[]> embeds = k -> {
                PriorRequest.Builder b = PriorRequest.newBuilder().setText(t).setUnconditional(t).setNumImages(2)
                        .setSeed(3);
                b.getParamsBuilder().setCandidates(k);
                List<PriorEvent> events = new java.util.ArrayList<>();
                stub.sample(b.build()).forEachRemaining(events::add);
                FloatTensor out = events.get(events.size() - 1).getImageEmbeds();
                float[] v = new float[out.getDataCount()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = out.getData(i);
                }
                return v;
            };
            float[] one = embeds.apply(1);
            float[] four = embeds.apply(4);
            assertTrue(!java.util.Arrays.equals(one, four), "best of 4 keeps a later candidate somewhere");
            for (int i = 0; i < 2; i++) {
                double c1 = cosine(java.util.Arrays.copyOfRange(one, i * 16, i * 16 + 16), t);
                double c4 = cosine(java.util.Arrays.copyOfRange(four, i * 16, i * 16 + 16), t);
                assertTrue(c4 >= c1 - 1e-6, "image " + i + ": best of 4 (" + c4 + ") is at least candidate 0 (" + c1
                        + ")");
            }
            io.grpc.StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
                    io.grpc.StatusRuntimeException.class, () -> embeds.apply(9));
            assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertEquals("params.candidates: must be between 1 and 8, got 9", e.getStatus().getDescription());
        } finally {
            channel.shutdownNow();
        }
    }

    private static double cosine(float[] a, TextConditioning t) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            double b = t.getTextEmbeds().getData(i);
            dot += a[i] * b;
            na += (double) a[i] * a[i];
            nb += b * b;
        }
        return dot / Math.sqrt(na * nb);
    }
}
