package io.unclip.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.unclip.api.v1.CancelRequest;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GetJobRequest;
import io.unclip.api.v1.ImageServiceGrpc;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageName;
import io.unclip.kafka.testkit.KafkaResource;

/**
 * The gateway on a real broker, with the real stage worker running stand-in stage logic
 * ({@link FakeStages}): Generate streams every stage's events and the result; a dead-lettered
 * job fails and the next one runs; Cancel stops the running stage; GetJob reports jobs.
 */
@QuarkusTest
@TestProfile(GatewayKafkaTest.WithKafka.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayKafkaTest {
    public static class WithKafka implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(KafkaResource.class));
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("unclip.kafka.partitions", "2");
        }
    }

    @TestHTTPResource("/")
    URL base;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    ManagedChannel channel;
    ImageServiceGrpc.ImageServiceBlockingStub images;
    FakeStages stages;

    @BeforeAll
    void start() throws Exception {
        channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        images = ImageServiceGrpc.newBlockingStub(channel);
        stages = new FakeStages(bootstrap, Files.createTempDirectory("unclip-results"));
        // the gateway connects in the background: wait until it accepts jobs
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                images.withDeadlineAfter(5, TimeUnit.SECONDS).getJob(GetJobRequest.newBuilder().setJobId("probe").build());
            } catch (io.grpc.StatusRuntimeException e) {
                if (e.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND) {
                    break;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gateway not connected");
            }
            Thread.sleep(100);
        }
        waitStarted();
    }

    void waitStarted() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "q/health/ready")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode() != 200) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gateway not ready");
            }
            Thread.sleep(100);
        }
    }

    @AfterAll
    void stop() throws InterruptedException {
        stages.close();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    static GenerateRequest request(String prompt) {
        return GenerateRequest.newBuilder().setPrompt(prompt).setSeed(42).setPreviewInterval(2).build();
    }

    List<GenerateEvent> generate(GenerateRequest r) {
        List<GenerateEvent> events = new ArrayList<>();
        images.withDeadlineAfter(60, TimeUnit.SECONDS).generate(r).forEachRemaining(events::add);
        return events;
    }

    @Test
    void generateStreamsEveryStagesEventsAndTheResult() {
        generate(request("a red circle")); // warm-up (first-use costs)
        long t0 = System.nanoTime();
        List<GenerateEvent> events = generate(request("a red circle"));
        long wall = System.nanoTime() - t0;

        GenerateEvent first = events.get(0);
        assertTrue(first.hasAccepted(), first.toString());
        assertEquals(42, first.getAccepted().getSeed());
        String jobId = first.getAccepted().getJobId();
        assertTrue(events.stream().allMatch(e -> e.getJobId().equals(jobId)));

        List<String> stageEvents = events.stream().filter(e -> e.hasStageStarted() || e.hasStageFinished())
                .map(e -> e.hasStageStarted() ? "start " + e.getStageStarted().getStage()
                        : "finish " + e.getStageFinished().getStage())
                .toList();
        assertEquals(List.of("start TEXT_ENCODER", "finish TEXT_ENCODER", "start PRIOR", "finish PRIOR",
                "start DECODER", "finish DECODER", "start UPSAMPLER", "finish UPSAMPLER"), stageEvents);
        assertTrue(events.stream().anyMatch(e -> e.hasProgress() && e.getProgress().getStage() == StageName.DECODER
                && e.getProgress().hasPreviewPng()), "a decoder preview");
        GenerateEvent last = events.get(events.size() - 1);
        assertTrue(last.hasResult(), last.toString());
        assertEquals(1, last.getResult().getImagesCount());
        assertEquals(4, last.getResult().getTimingsCount());
        assertEquals(1, events.stream().filter(ClientStream::isTerminal).count(), "exactly one terminal event");

        var status = images.getJob(GetJobRequest.newBuilder().setJobId(jobId).build());
        assertEquals(JobState.SUCCEEDED, status.getState());
        assertEquals(1, status.getResult().getImagesCount());
        var cancel = images.cancel(CancelRequest.newBuilder().setJobId(jobId).build());
        assertFalse(cancel.getCancelled(), "a finished job stays finished");
        assertEquals(JobState.SUCCEEDED, cancel.getState());
        System.out.printf("fake 4-stage job through Kafka: %.1f ms end to end (%d events)%n", wall / 1e6, events.size());
    }

    @Test
    void aRetriedRequestIdFollowsTheJobAnotherReplicaAccepted() throws Exception {
        try (var kafka = new io.unclip.kafka.testkit.TopicProbe(bootstrap)) {
            // another gateway replica accepted a job for request id retry-1 ...
            kafka.send("unclip.events", "other-job", io.unclip.service.record.Records.event("other-job", null, 0,
                    GenerateEvent.newBuilder().setAccepted(io.unclip.api.v1.JobAccepted.newBuilder()
                            .setJobId("other-job").setRequestId("retry-1")), "gateway-2").toByteArray(),
                    Map.of("unclip-event", "accepted"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) { // ... and this replica has read its accepted event
                try {
                    images.getJob(GetJobRequest.newBuilder().setJobId("other-job").build());
                    break;
                } catch (io.grpc.StatusRuntimeException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(50);
                }
            }
            // the client's retry reaches this replica: it follows that job instead of making a second one
            Iterator<GenerateEvent> retry = images.withDeadlineAfter(60, TimeUnit.SECONDS)
                    .generate(request("a red circle").toBuilder().setRequestId("retry-1").build());
            GenerateEvent first = retry.next();
            assertEquals("other-job", first.getAccepted().getJobId());
            kafka.send("unclip.results", "other-job", io.unclip.api.v1.JobResult.newBuilder().setJobId("other-job")
                    .setStatus(JobState.SUCCEEDED).build().toByteArray());
            GenerateEvent last = first;
            while (retry.hasNext()) {
                last = retry.next();
            }
            assertTrue(last.hasResult(), last.toString());
            assertEquals("other-job", last.getJobId());
        }
    }

    @Test
    void deadLetteredJobFailsAndTheNextRuns() {
        List<GenerateEvent> bad = generate(request("a poison circle"));
        GenerateEvent last = bad.get(bad.size() - 1);
        assertTrue(last.hasFailed(), last.toString());
        assertEquals(FailureCode.INVALID_REQUEST, last.getFailed().getCode());
        assertEquals(StageName.PRIOR, last.getFailed().getStage());
        assertEquals("prompt: poisoned", last.getFailed().getMessage());

        List<GenerateEvent> good = generate(request("a blue square"));
        assertTrue(good.get(good.size() - 1).hasResult());
    }

    @Test
    void cancelStopsTheRunningStageAndEndsTheStream() throws Exception {
        stages.decoderStepMillis = 2000;
        try {
            Iterator<GenerateEvent> it = images.withDeadlineAfter(60, TimeUnit.SECONDS).generate(request("a slow circle"));
            String jobId = it.next().getAccepted().getJobId();
            GenerateEvent e;
            do {
                e = it.next();
            } while (!(e.hasStageStarted() && e.getStageStarted().getStage() == StageName.DECODER));
            Thread.sleep(200); // inside the decoder's first step
            long sent = System.nanoTime();
            var reply = images.cancel(CancelRequest.newBuilder().setJobId(jobId).build());
            assertTrue(reply.getCancelled());
            assertEquals(JobState.CANCELLED, reply.getState());
            List<GenerateEvent> rest = new ArrayList<>();
            it.forEachRemaining(rest::add);
            assertTrue(rest.get(rest.size() - 1).hasCancelled(), rest.toString());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (stages.decoderStoppedAt == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(stages.decoderStoppedAt > 0, "the decoder loop stopped");
            assertTrue(stages.decoderStepsRun <= 2, "stopped within one step: " + stages.decoderStepsRun);
            assertEquals(JobState.CANCELLED, images.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getState());
            System.out.printf("cancel: decoder stopped %.0f ms after Cancel (its step takes 2000 ms)%n",
                    (stages.decoderStoppedAt - sent) / 1e6);
        } finally {
            stages.decoderStepMillis = 1;
        }
    }
}
