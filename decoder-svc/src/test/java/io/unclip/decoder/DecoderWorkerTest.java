package io.unclip.decoder;

import io.grpc.ManagedChannelBuilder;
import io.unclip.api.v1.DecodeEvent;
import io.unclip.api.v1.DecodeRequest;
import io.unclip.api.v1.DecoderServiceGrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.FloatTensor;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GenerationParams;
import io.unclip.api.v1.JobEvent;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.SamplerParams;
import io.unclip.api.v1.StageInputs;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.TextConditioning;
import io.unclip.kafka.testkit.TopicProbe;
import io.unclip.kafka.testkit.WorkerTestBase;
import io.unclip.kafka.testkit.WorkerTestProfile;
import io.unclip.service.kafka.Topics;

/**
 * The decoder service's Kafka worker on a real broker with the tiny bundle: a task becomes the
 * first upsampler's task (or, at the decoder's size, the job's result), with stage events; a
 * malformed record is dead-lettered with a failed result and the next record still runs.
 */
@QuarkusTest
@TestProfile(WorkerTestProfile.class)
class DecoderWorkerTest extends WorkerTestBase {
    DecoderWorkerTest() {
        super(Topics.UPSAMPLER, Topics.RESULTS, Topics.EVENTS, Topics.DEAD_LETTER);
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

    static TextConditioning text(Random r) {
        FloatTensor.Builder mask = FloatTensor.newBuilder().addShape(24);
        for (int i = 0; i < 24; i++) {
            mask.addData(i < 5 ? 1f : 0f);
        }
        return TextConditioning.newBuilder().setTextEmbeds(random(r, 16)).setLastHiddenState(random(r, 24, 16))
                .setAttentionMask(mask).build();
    }

    static StageTask task(String jobId, int images, int size) {
        return task(jobId, images, size, SamplerParams.getDefaultInstance());
    }

    static StageTask task(String jobId, int images, int size, SamplerParams decoder) {
        Random r = new Random(jobId.hashCode());
        return StageTask.newBuilder().setJobId(jobId).setStage(StageName.DECODER).setAttempt(1)
                .setRequest(JobRequest.newBuilder().setJobId(jobId).setStreamProgress(true)
                        .setGenerate(GenerateRequest.newBuilder().setPrompt("a red circle").setSeed(3)
                                .setNumImages(images).setSize(size).setPreviewInterval(5).setDecoder(decoder)))
                .setInputs(StageInputs.newBuilder().setImageEmbeds(random(r, images, 16)).setText(text(r))
                        .setUnconditional(text(r)))
                .setParams(GenerationParams.newBuilder().setPrompt("a red circle").setSize(size))
                .build();
    }

    @Test
    void taskToNextTaskOrResultAndDeadLetters() throws Exception {
        kafka.send(Topics.DECODER, "dec-bad", new byte[] {1, 2, 3, 4});
        kafka.send(Topics.DECODER, "dec-1", task("dec-1", 2, 128).toByteArray());
        kafka.send(Topics.DECODER, "dec-2", task("dec-2", 1, 8).toByteArray());

        StageTask up = StageTask.parseFrom(kafka.first(Topics.UPSAMPLER, "dec-1", WAIT).value());
        assertEquals(StageName.UPSAMPLER, up.getStage());
        assertEquals(0, up.getCascadeStep());
        assertEquals(List.of(2L, 3L, 8L, 8L), up.getInputs().getImages().getPixels().getShapeList());
        assertEquals(2 * 3 * 8 * 8, up.getInputs().getImages().getPixels().getDataCount());
        assertTrue(up.getInputs().hasImageEmbeds(), "the upsamplers may need the embeddings");
        assertEquals(StageName.DECODER, up.getTimings(0).getStage());
        assertEquals(25, up.getTimings(0).getSteps());

        JobResult done = JobResult.parseFrom(kafka.first(Topics.RESULTS, "dec-2", WAIT).value());
        assertEquals(JobState.SUCCEEDED, done.getStatus());
        assertEquals(1, done.getImagesCount());
        assertEquals(8, done.getImages(0).getWidth());
        assertEquals(25, done.getParams().getDecoder().getSteps(), "the decoder's settings, in the decoder field");
        assertTrue(done.getParams().hasPrior(), "a text-to-image job reports its prior's settings");
        assertFalse(done.getParams().hasUpsampler(), "no upsampler ran");

        DeadLetter dl = DeadLetter.parseFrom(kafka.first(Topics.DEAD_LETTER, "dec-bad", WAIT).value());
        assertEquals(FailureCode.DEAD_LETTERED, dl.getCode());
        assertEquals(StageName.DECODER, dl.getStage());
        JobResult failed = JobResult.parseFrom(kafka.first(Topics.RESULTS, "dec-bad", WAIT).value());
        assertEquals(JobState.FAILED, failed.getStatus());
        assertEquals(dl.getReason(), failed.getError().getMessage());

        List<String> kinds = kafka.await(TopicProbe.on(Topics.EVENTS, "dec-1").and(r ->
                "stage_finished".equals(TopicProbe.header(r, "unclip-event"))), 1, WAIT).isEmpty() ? List.of()
                : kafka.settle(TopicProbe.on(Topics.EVENTS, "dec-1"), Duration.ZERO).stream()
                .map(r -> TopicProbe.header(r, "unclip-event")).toList();
        assertEquals("stage_started", kinds.get(0));
        assertEquals("stage_finished", kinds.get(kinds.size() - 1));
        assertTrue(kinds.contains("progress"), kinds.toString());
        JobEvent last = JobEvent.parseFrom(kafka.settle(TopicProbe.on(Topics.EVENTS, "dec-1"), Duration.ZERO)
                .get(kinds.size() - 1).value());
        assertEquals(StageName.DECODER, last.getEvent().getStageFinished().getStage());
    }

    /** The decoder service loads the bundle's image encoder too, and ranks candidates with it. */
    @Test
    void decoderCandidatesAreRankedInTheStageAndReported() throws Exception {
        kafka.send(Topics.DECODER, "dec-k3", task("dec-k3", 2, 8, SamplerParams.newBuilder().setSteps(6)
                .setCandidates(3).build()).toByteArray());
        kafka.send(Topics.DECODER, "dec-k9", task("dec-k9", 1, 8, SamplerParams.newBuilder().setCandidates(9).build())
                .toByteArray());
        JobResult done = JobResult.parseFrom(kafka.first(Topics.RESULTS, "dec-k3", WAIT).value());
        assertEquals(JobState.SUCCEEDED, done.getStatus(), done.getError().getMessage());
        assertEquals(2, done.getImagesCount(), "one image per requested image, whatever the candidates");
        assertEquals(3, done.getParams().getDecoder().getCandidates());
        assertEquals(6, done.getParams().getDecoder().getSteps());
        JobResult refused = JobResult.parseFrom(kafka.first(Topics.RESULTS, "dec-k9", WAIT).value());
        assertEquals(JobState.FAILED, refused.getStatus());
        assertEquals(FailureCode.INVALID_REQUEST, refused.getError().getCode());
        assertTrue(refused.getError().getMessage().contains("decoder.candidates: must be between 1 and 8, got 9"),
                refused.getError().getMessage());
    }

    @Test
    void grpcDecode() {
        var channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            Random r = new Random(3);
            List<DecodeEvent> events = new java.util.ArrayList<>();
            DecoderServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, java.util.concurrent.TimeUnit.SECONDS)
                    .decode(DecodeRequest.newBuilder().setImageEmbeds(random(r, 1, 16)).setText(text(r))
                            .setUnconditional(text(r)).setSeed(1).setPreviewInterval(10).setEncodePng(true).build())
                    .forEachRemaining(events::add);
            DecodeEvent last = events.get(events.size() - 1);
            assertEquals(List.of(1L, 3L, 8L, 8L), last.getOutput().getPixels().getShapeList());
            assertEquals(8, io.unclip.engine.image.PngCodec.withDefaultLimits()
                    .decode(last.getOutput().getImages(0).getPng().toByteArray()).width());
            assertTrue(events.stream().anyMatch(e -> e.hasProgress() && e.getProgress().hasPreviewPng()));
            assertTrue(events.stream().filter(DecodeEvent::hasProgress)
                    .allMatch(e -> e.getProgress().getStage() == StageName.DECODER && e.getProgress().getTotal() > 0));
            assertEquals(StageName.DECODER, last.getTimings().getStage());
            assertTrue(last.getTimings().getSteps() > 0, last.getTimings().toString());
        } finally {
            channel.shutdownNow();
        }
    }
}
