package io.unclip.upsampler;

import io.grpc.ManagedChannelBuilder;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.UpsampleEvent;
import io.unclip.api.v1.UpsampleRequest;
import io.unclip.api.v1.UpsamplerServiceGrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.unclip.api.v1.FloatTensor;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GenerationParams;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageImages;
import io.unclip.api.v1.StageInputs;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.image.PngCodec;
import io.unclip.kafka.testkit.TopicProbe;
import io.unclip.kafka.testkit.WorkerTestBase;
import io.unclip.kafka.testkit.WorkerTestProfile;
import io.unclip.service.kafka.Topics;

/**
 * The upsamplers' worker on a real broker with the tiny bundle (8 -> 32 -> 128): step 0 queues
 * step 1 when the job wants 128, and writes the result when it wants 32.
 */
@QuarkusTest
@TestProfile(WorkerTestProfile.class)
class UpsamplerWorkerTest extends WorkerTestBase {
    UpsamplerWorkerTest() {
        super(Topics.UPSAMPLER, Topics.RESULTS);
    }

    static StageTask task(String jobId, int size) {
        Random r = new Random(1);
        FloatTensor.Builder px = FloatTensor.newBuilder().addShape(1).addShape(3).addShape(8).addShape(8);
        for (int i = 0; i < 3 * 8 * 8; i++) {
            px.addData((float) Math.tanh(r.nextGaussian()));
        }
        return StageTask.newBuilder().setJobId(jobId).setStage(StageName.UPSAMPLER).setCascadeStep(0).setAttempt(1)
                .setRequest(JobRequest.newBuilder().setJobId(jobId).setGenerate(GenerateRequest.newBuilder()
                        .setPrompt("a red circle").setSeed(4).setSize(size)))
                .setInputs(StageInputs.newBuilder().setImages(StageImages.newBuilder().setPixels(px)))
                .setParams(GenerationParams.newBuilder().setPrompt("a red circle").setSize(size))
                .build();
    }

    @Test
    void eachStepQueuesTheNextOrWritesTheResult() throws Exception {
        kafka.send(Topics.UPSAMPLER, "up-32", task("up-32", 32).toByteArray());
        kafka.send(Topics.UPSAMPLER, "up-128", task("up-128", 128).toByteArray());

        JobResult r = JobResult.parseFrom(kafka.first(Topics.RESULTS, "up-32", WAIT).value());
        assertEquals(JobState.SUCCEEDED, r.getStatus());
        assertEquals(32, r.getImages(0).getWidth());
        var png = PngCodec.withDefaultLimits().decode(r.getImages(0).getImage().getPng().toByteArray());
        assertEquals(32, png.width());
        assertEquals("4", png.text().get("seed"));

        StageTask step1 = StageTask.parseFrom(kafka.await(TopicProbe.on(Topics.UPSAMPLER, "up-128")
                .and(rec -> rec.value().length > 0), 2, WAIT).get(1).value());
        assertEquals(1, step1.getCascadeStep());
        assertEquals(List.of(1L, 3L, 32L, 32L), step1.getInputs().getImages().getPixels().getShapeList());

        JobResult r128 = JobResult.parseFrom(kafka.first(Topics.RESULTS, "up-128", WAIT).value());
        assertEquals(128, r128.getImages(0).getHeight());
        assertEquals(2, r128.getTimingsCount());
        assertEquals(List.of(0, 1), r128.getTimingsList().stream().map(t -> t.getCascadeStep()).toList());
    }

    /** Both doors look the step up in one place and refuse a step past the bundle's upsamplers with one message. */
    @Test
    void aStepPastTheBundlesUpsamplersIsRefusedAtBothDoors() throws Exception {
        String expected = "cascade_step: is 2 but the bundle has 2 upsampler(s)";
        kafka.send(Topics.UPSAMPLER, "up-step2", task("up-step2", 128).toBuilder().setCascadeStep(2).build().toByteArray());
        JobResult r = JobResult.parseFrom(kafka.first(Topics.RESULTS, "up-step2", WAIT).value());
        assertEquals(JobState.FAILED, r.getStatus());
        assertEquals(io.unclip.api.v1.FailureCode.INVALID_REQUEST, r.getError().getCode());
        assertEquals(expected, r.getError().getMessage());

        var channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            byte[] png = PngCodec.withDefaultLimits().encode(io.unclip.engine.tensor.Tensor.zeros(1, 3, 8, 8), 0,
                    java.util.Map.of());
            var e = org.junit.jupiter.api.Assertions.assertThrows(io.grpc.StatusRuntimeException.class, () ->
                    UpsamplerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, java.util.concurrent.TimeUnit.SECONDS)
                            .upsample(UpsampleRequest.newBuilder().setImage(ImageRef.newBuilder()
                                    .setPng(com.google.protobuf.ByteString.copyFrom(png))).setCascadeStep(2).setSeed(2)
                                    .build()).forEachRemaining(ev -> {
                            }));
            assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
            assertEquals(expected, e.getStatus().getDescription());
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void grpcUpsampleAPng() {
        var channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            byte[] png = PngCodec.withDefaultLimits().encode(io.unclip.engine.tensor.Tensor.zeros(1, 3, 8, 8), 0,
                    java.util.Map.of());
            List<UpsampleEvent> events = new java.util.ArrayList<>();
            UpsamplerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, java.util.concurrent.TimeUnit.SECONDS)
                    .upsample(UpsampleRequest.newBuilder().setImage(ImageRef.newBuilder()
                            .setPng(com.google.protobuf.ByteString.copyFrom(png))).setCascadeStep(0).setSeed(2)
                            .setEncodePng(true).build()).forEachRemaining(events::add);
            UpsampleEvent last = events.get(events.size() - 1);
            assertEquals(List.of(1L, 3L, 32L, 32L), last.getOutput().getPixels().getShapeList());
            assertEquals(32, last.getOutput().getImages(0).getWidth());
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void grpcUpsampleACorruptPngIsInvalidArgument() {
        var channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            var e = org.junit.jupiter.api.Assertions.assertThrows(io.grpc.StatusRuntimeException.class, () ->
                    UpsamplerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, java.util.concurrent.TimeUnit.SECONDS)
                            .upsample(UpsampleRequest.newBuilder().setImage(ImageRef.newBuilder()
                                    .setPng(io.unclip.kafka.testkit.TestImages.truncatedPng(8, 8))).setCascadeStep(0)
                                    .setSeed(2).build()).forEachRemaining(ev -> {
                            }));
            assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
            org.junit.jupiter.api.Assertions.assertTrue(e.getStatus().getDescription().startsWith("image.png: corrupt PNG"),
                    e.getStatus().getDescription());
        } finally {
            channel.shutdownNow();
        }
    }
}
