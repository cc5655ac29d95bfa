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
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.trace.data.SpanData;
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
import jakarta.inject.Inject;

/**
 * The gateway on a real broker, with the real stage worker running stand-in stage logic
 * ({@link FakeStages}): Generate streams every stage's events and the result; a dead-lettered
 * job fails and the next one runs; Cancel stops the running stage; GetJob reports jobs. Tracing is
 * on: a job is one trace from the caller's gRPC call through every stage to its result; and
 * /q/metrics has the gateway's and the workers' histograms.
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
            return Map.of("unclip.kafka.partitions", "2",
                    "quarkus.otel.sdk.disabled", "false",
                    // spans go to CollectedSpans only (no collector here), each when it ends
                    "quarkus.otel.exporter.otlp.enabled", "false",
                    "quarkus.otel.simple", "true",
                    "quarkus.log.category.\"io.unclip.gateway\".level", "DEBUG");
        }
    }

    @TestHTTPResource("/")
    URL base;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Inject
    MeterRegistry registry;

    @Inject
    OpenTelemetry telemetry;

    @Inject
    CollectedSpans spans;

    ManagedChannel channel;
    ImageServiceGrpc.ImageServiceBlockingStub images;
    FakeStages stages;

    @BeforeAll
    void start() throws Exception {
        channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        images = ImageServiceGrpc.newBlockingStub(channel);
        stages = new FakeStages(bootstrap, Files.createTempDirectory("unclip-results"), registry, telemetry);
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

    static final String CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";
    static final String CALLER_SPAN = "b7ad6b7169203331";

    @Test
    void aJobIsOneTraceFromTheCallersCallThroughEveryStageToItsResult() throws Exception {
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER),
                "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-01");
        List<GenerateEvent> events = new ArrayList<>();
        List<org.jboss.logmanager.ExtLogRecord> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r instanceof org.jboss.logmanager.ExtLogRecord x) {
                    x.copyAll(); // the MDC is read lazily: take it on the logging thread
                    logged.add(x);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger gatewayLog = java.util.logging.Logger.getLogger("io.unclip.gateway");
        gatewayLog.addHandler(capture);
        try {
            images.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).withDeadlineAfter(60, TimeUnit.SECONDS)
                    .generate(request("a traced circle").toBuilder().setRequestId("traced-1").build())
                    .forEachRemaining(events::add);
        } finally {
            gatewayLog.removeHandler(capture);
        }
        String jobId = events.get(0).getAccepted().getJobId();
        assertTrue(events.get(events.size() - 1).hasResult());
        // the gateway's log line of the submission carries the job's ids in its MDC
        org.jboss.logmanager.ExtLogRecord line = logged.stream()
                .filter(r -> r.getFormattedMessage().contains("job " + jobId + " accepted")).findFirst()
                .orElseThrow(() -> new AssertionError("no accepted line in " + logged.size() + " lines"));
        assertEquals(jobId, line.getMdc(io.unclip.service.telemetry.LogContext.JOB_ID));
        assertEquals("traced-1", line.getMdc(io.unclip.service.telemetry.LogContext.REQUEST_ID));
        assertEquals(CALLER_TRACE, line.getMdc(io.unclip.service.telemetry.LogContext.TRACE_ID));

        AttributeKey<String> job = AttributeKey.stringKey("unclip.job_id");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<SpanData> found = List.of();
        while (found.stream().noneMatch(s -> s.getName().equals("unclip.results receive"))) {
            // the result's span ends just after the client has the result
            assertTrue(System.nanoTime() < deadline, "no result span in " + names(found));
            Thread.sleep(20);
            found = spans.spans().stream().filter(s -> s.getTraceId().equals(CALLER_TRACE)).toList();
        }
        List<SpanData> trace = found;
        SpanData call = trace.stream().filter(s -> s.getKind() == SpanKind.SERVER).findFirst()
                .orElseThrow(() -> new AssertionError("no gRPC server span in " + names(trace)));
        assertEquals(CALLER_SPAN, call.getParentSpanId(), "the call continues the caller's trace");
        // each hop's span is the child of the one before it: gateway publish, four stages, the result
        String parent = call.getSpanId();
        for (String name : List.of("stage.text-encoder publish", "stage.text-encoder process", "stage.prior process",
                "stage.decoder process", "stage.upsampler process", "unclip.results receive")) {
            SpanData s = trace.stream().filter(x -> x.getName().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no span " + name + " in " + names(trace)));
            assertEquals(parent, s.getParentSpanId(), name + "'s parent");
            assertEquals(jobId, s.getAttributes().get(job), name);
            parent = s.getSpanId();
        }
    }

    static List<String> names(List<SpanData> spans) {
        return spans.stream().map(s -> s.getName() + "(" + s.getSpanId() + "<-" + s.getParentSpanId() + ")").toList();
    }

    @Test
    void metricsHaveTheGatewaysAndTheWorkersHistograms() throws Exception {
        assertTrue(generate(request("a measured circle")).stream().anyMatch(GenerateEvent::hasResult));
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String metrics = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "q/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        for (String line : List.of("unclip_stage_latency_seconds_bucket{", "unclip_stage_queue_seconds_bucket{",
                "unclip_stage_steps_per_second_bucket{", "unclip_gateway_first_preview_seconds_bucket{",
                "unclip_gateway_active_streams ", "kafka_producer_record_send_total{",
                "kafka_consumer_fetch_manager_records_consumed_total{")) {
            assertTrue(metrics.contains(line), line + " on /q/metrics");
        }
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("unclip_gateway_jobs_total{")
                && l.contains("outcome=\"succeeded\"") && l.contains("code=\"none\"")), "jobs by outcome");
        assertTrue(metrics.lines().noneMatch(l -> l.startsWith("unclip_stage_latency_seconds{")
                && l.contains("quantile")), "no per-replica quantiles");
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
