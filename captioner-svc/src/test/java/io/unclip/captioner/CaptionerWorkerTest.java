package io.unclip.captioner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.google.protobuf.ByteString;

import io.grpc.ManagedChannelBuilder;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.unclip.api.v1.CaptionImageRequest;
import io.unclip.api.v1.CaptionRequest;
import io.unclip.api.v1.CaptionStyle;
import io.unclip.api.v1.CaptionToken;
import io.unclip.api.v1.CaptionerServiceGrpc;
import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.kafka.testkit.TestImages;
import io.unclip.kafka.testkit.TopicProbe;
import io.unclip.kafka.testkit.WorkerTestBase;
import io.unclip.kafka.testkit.WorkerTestProfile;
import io.unclip.service.kafka.Topics;

/**
 * The captioner service with the tiny bundle loaded (one class: the tokenizer's native library
 * loads once per JVM) and a real broker. Over gRPC, tokens stream and the last message holds the
 * caption. Its Kafka worker: a caption task
 * (PNG or JPEG) becomes the job's result with the caption the gRPC path gives for the same image;
 * an undecodable image, a task that is not a caption job and an unparseable record fail their
 * jobs (dead letters), and the next task still runs.
 */
@QuarkusTest
@TestProfile(WorkerTestProfile.class)
class CaptionerWorkerTest extends WorkerTestBase {
    CaptionerWorkerTest() {
        super(Topics.RESULTS, Topics.EVENTS, Topics.DEAD_LETTER, Topics.CAPTIONER);
    }

    static StageTask task(String jobId, ByteString image, CaptionStyle style) {
        return StageTask.newBuilder().setJobId(jobId).setStage(StageName.CAPTIONER).setAttempt(1)
                .setRequest(JobRequest.newBuilder().setJobId(jobId)
                        .setCaption(CaptionRequest.newBuilder().setImage(image).setStyle(style)))
                .build();
    }

    /** The caption the gRPC path gives, streamed token by token. */
    String grpcCaption(ByteString png, CaptionStyle style, int maxTokens) {
        var channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            List<CaptionToken> tokens = new ArrayList<>();
            CaptionerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .caption(CaptionImageRequest.newBuilder().setImage(ImageRef.newBuilder().setPng(png))
                            .setStyle(style).setMaxTokens(maxTokens).build())
                    .forEachRemaining(tokens::add);
            CaptionToken last = tokens.get(tokens.size() - 1);
            assertTrue(last.getLast());
            assertFalse(tokens.subList(0, tokens.size() - 1).stream().anyMatch(CaptionToken::getLast));
            if (maxTokens > 0) {
                assertTrue(tokens.size() - 1 <= maxTokens, "at most max_tokens tokens");
            }
            assertEquals(tokens.size() - 1, last.getIndex());
            return last.getCaption();
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void grpcCaptionStreamsTokens() {
        grpcCaption(TestImages.encode("png", 40, 40), CaptionStyle.DESCRIPTIVE, 6);
    }

    JobResult result(String jobId) throws Exception {
        return JobResult.parseFrom(kafka.first(Topics.RESULTS, jobId, WAIT).value());
    }

    @Test
    void captionTasksBecomeResultsAndBadOnesFailTheirJobs() throws Exception {
        ByteString png = TestImages.encode("png", 40, 40);
        kafka.send(Topics.CAPTIONER, "cap-garbage", new byte[] {9, 9, 9});
        kafka.send(Topics.CAPTIONER, "cap-undecodable", task("cap-undecodable",
                ByteString.copyFrom(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2}), CaptionStyle.SHORT).toByteArray());
        kafka.send(Topics.CAPTIONER, "cap-generate", task("cap-generate", png, CaptionStyle.SHORT).toBuilder()
                .setRequest(JobRequest.newBuilder().setJobId("cap-generate")
                        .setGenerate(GenerateRequest.newBuilder().setPrompt("a red circle").setSeed(1))).build()
                .toByteArray());
        StageTask streamed = task("cap-png", png, CaptionStyle.DESCRIPTIVE);
        kafka.send(Topics.CAPTIONER, "cap-png", streamed.toBuilder().setRequest(streamed.getRequest().toBuilder()
                .setStreamProgress(true)).build().toByteArray());
        kafka.send(Topics.CAPTIONER, "cap-jpeg", task("cap-jpeg", TestImages.encode("jpeg", 40, 40),
                CaptionStyle.DESCRIPTIVE).toByteArray());

        JobResult ok = result("cap-png");
        assertEquals(JobState.SUCCEEDED, ok.getStatus());
        assertFalse(ok.getCaption().isBlank(), ok.toString());
        assertEquals(0, ok.getImagesCount());
        assertEquals(StageName.CAPTIONER, ok.getTimings(0).getStage());
        assertFalse(ok.getParams().getModelBundle().isEmpty());
        assertEquals(grpcCaption(png, CaptionStyle.DESCRIPTIVE, 0), ok.getCaption(), "as over gRPC");
        // a black JPEG and a black PNG are the same pixels: the same caption
        assertEquals(ok.getCaption(), result("cap-jpeg").getCaption());

        for (String bad : List.of("cap-garbage", "cap-undecodable", "cap-generate")) {
            JobResult failed = result(bad);
            assertEquals(JobState.FAILED, failed.getStatus(), bad);
            DeadLetter dl = DeadLetter.parseFrom(kafka.first(Topics.DEAD_LETTER, bad, WAIT).value());
            assertEquals(StageName.CAPTIONER, dl.getStage());
            assertEquals(dl.getReason(), failed.getError().getMessage());
            if (!bad.equals("cap-garbage")) {
                assertEquals(FailureCode.INVALID_REQUEST, failed.getError().getCode(), failed.toString());
            }
        }
        assertTrue(result("cap-generate").getError().getMessage().contains("caption jobs only"));

        List<String> kinds = kafka.await(TopicProbe.on(Topics.EVENTS, "cap-png").and(r ->
                "stage_finished".equals(TopicProbe.header(r, "unclip-event"))), 1, WAIT).isEmpty() ? List.of()
                : kafka.settle(TopicProbe.on(Topics.EVENTS, "cap-png"), Duration.ZERO).stream()
                .map(r -> TopicProbe.header(r, "unclip-event")).toList();
        assertEquals("stage_started", kinds.get(0));
        assertEquals("stage_finished", kinds.get(kinds.size() - 1));
        assertTrue(kinds.contains("progress"), "a progress event per decoded token: " + kinds);
    }

    @Test
    void grpcCaptionOfACorruptPngIsInvalidArgument() {
        var channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            var e = org.junit.jupiter.api.Assertions.assertThrows(io.grpc.StatusRuntimeException.class, () ->
                    CaptionerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                            .caption(CaptionImageRequest.newBuilder().setImage(ImageRef.newBuilder()
                                    .setPng(TestImages.truncatedPng(40, 40))).build()).forEachRemaining(t -> {
                            }));
            assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
            assertTrue(e.getStatus().getDescription().startsWith("image.png: corrupt PNG"), e.getStatus().getDescription());
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void aCaptionJobWithACorruptPngIsDeadLetteredAtOnce() throws Exception {
        kafka.send(Topics.CAPTIONER, "cap-truncated", task("cap-truncated", TestImages.truncatedPng(40, 40),
                CaptionStyle.SHORT).toByteArray());
        JobResult failed = result("cap-truncated");
        assertEquals(JobState.FAILED, failed.getStatus());
        assertEquals(FailureCode.INVALID_REQUEST, failed.getError().getCode(), failed.toString());
        assertTrue(failed.getError().getMessage().contains("corrupt PNG"), failed.getError().getMessage());
        DeadLetter dl = DeadLetter.parseFrom(kafka.first(Topics.DEAD_LETTER, "cap-truncated", WAIT).value());
        assertEquals(dl.getReason(), failed.getError().getMessage());
        assertEquals(1, kafka.settle(TopicProbe.on(Topics.CAPTIONER, "cap-truncated"), Duration.ofSeconds(2)).size(),
                "not queued again: a corrupt image does not get better with retries");
        assertEquals(1, kafka.settle(TopicProbe.on(Topics.RESULTS, "cap-truncated"), Duration.ZERO).size());
    }
}
