package io.unclip.gateway;

import static io.unclip.gateway.HttpClients.post;
import static io.unclip.gateway.HttpClients.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.JobStatus;
import io.unclip.api.v1.StageName;
import io.unclip.gateway.http.ProtoJson;
import jakarta.inject.Inject;

/**
 * The gateway's HTTP doors over a real socket (java.net.http), on a real broker with the real stage worker running
 * stand-in stages ({@link FakeStages}): the JSON door's event streams, jobs and cancellation, the OpenAI Images API
 * (b64_json, url, partial-image streams, variations), and every refusal in OpenAI's error shape with its status.
 */
@QuarkusTest
@TestProfile(HttpProfile.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpDoorsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URL base;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Inject
    MeterRegistry registry;

    @Inject
    OpenTelemetry telemetry;

    FakeStages stages;

    @BeforeAll
    void start() throws Exception {
        stages = new FakeStages(bootstrap, Files.createTempDirectory("unclip-results"), registry, telemetry);
        awaitReady(base);
    }

    static void awaitReady(URL base) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (HttpClients.HTTP.send(HttpRequest.newBuilder(URI.create(base + "q/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode() != 200) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gateway not ready");
            }
            Thread.sleep(100);
        }
    }

    @AfterAll
    void stop() {
        stages.close();
    }

    String url(String path) {
        return base + path.substring(1);
    }

    HttpResponse<InputStream> stream(String path, String key, String json) throws Exception {
        return HttpClients.HTTP.send(post(url(path), key, json).header("Accept", "text/event-stream").build(),
                HttpResponse.BodyHandlers.ofInputStream());
    }

    static GenerateEvent event(HttpClients.Sse e) {
        return ProtoJson.parse(e.data(), GenerateEvent.newBuilder(), "").build();
    }

    static JsonNode error(HttpResponse<String> r, int status) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                r.headers().toString());
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertTrue(e != null && e.get("message").isTextual() && e.has("type") && e.has("param") && e.has("code"),
                r.body());
        return e;
    }

    JobStatus job(String id) throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(url("/v1/unclip/jobs/" + id)))
                .header("Authorization", "Bearer " + HttpProfile.KEY));
        assertEquals(200, r.statusCode(), r.body());
        return ProtoJson.parse(r.body(), JobStatus.newBuilder(), "").build();
    }

    // ---- the JSON door

    @Test
    void jsonDoorStreamsEveryEventInOrderAndTheJobReadsBack() throws Exception {
        HttpResponse<InputStream> r = stream("/v1/unclip/generate", HttpProfile.KEY,
                "{\"prompt\":\"a red circle\",\"seed\":\"42\",\"previewInterval\":2}");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<GenerateEvent> events = HttpClients.events(r.body()).stream().map(HttpDoorsTest::event).toList();

        GenerateEvent first = events.get(0);
        assertTrue(first.hasAccepted(), first.toString());
        assertEquals(42, first.getAccepted().getSeed());
        String jobId = first.getAccepted().getJobId();
        List<String> stageEvents = events.stream().filter(e -> e.hasStageStarted() || e.hasStageFinished())
                .map(e -> e.hasStageStarted() ? "start " + e.getStageStarted().getStage()
                        : "finish " + e.getStageFinished().getStage())
                .toList();
        assertEquals(List.of("start TEXT_ENCODER", "finish TEXT_ENCODER", "start PRIOR", "finish PRIOR",
                "start DECODER", "finish DECODER", "start UPSAMPLER", "finish UPSAMPLER"), stageEvents);
        assertTrue(events.stream().anyMatch(e -> e.hasProgress() && e.getProgress().hasPreviewPng()), "a preview");
        GenerateEvent last = events.get(events.size() - 1);
        assertTrue(last.hasResult(), last.toString());
        assertEquals(1, events.stream().filter(ClientStream::isTerminal).count(), "exactly one terminal event");

        JobStatus status = job(jobId);
        assertEquals(JobState.SUCCEEDED, status.getState());
        assertEquals(1, status.getResult().getImagesCount());
        HttpResponse<String> cancel = send(post(url("/v1/unclip/jobs/" + jobId + "/cancel"), HttpProfile.KEY, ""));
        assertEquals(200, cancel.statusCode(), cancel.body());
        JsonNode reply = JSON.readTree(cancel.body());
        assertFalse(reply.path("cancelled").asBoolean(), "a finished job stays finished: " + cancel.body());
        assertEquals("SUCCEEDED", reply.path("state").asText());
    }

    @Test
    void jsonDoorCancelStopsTheRunningJob() throws Exception {
        stages.decoderStepMillis = 2000;
        try {
            HttpResponse<InputStream> r = stream("/v1/unclip/generate", HttpProfile.KEY,
                    "{\"prompt\":\"a slow circle\",\"seed\":\"1\"}");
            assertEquals(200, r.statusCode());
            try (HttpClients.SseReader events = new HttpClients.SseReader(r.body())) {
                String jobId = event(events.next()).getAccepted().getJobId();
                GenerateEvent e;
                do {
                    e = event(events.next());
                } while (!(e.hasStageStarted() && e.getStageStarted().getStage() == StageName.DECODER));
                HttpResponse<String> cancel = send(post(url("/v1/unclip/jobs/" + jobId + "/cancel"), HttpProfile.KEY,
                        ""));
                assertEquals(200, cancel.statusCode(), cancel.body());
                assertTrue(JSON.readTree(cancel.body()).path("cancelled").asBoolean(), cancel.body());
                List<GenerateEvent> rest = new ArrayList<>();
                HttpClients.Sse s;
                while ((s = events.next()) != null) {
                    rest.add(event(s));
                }
                assertTrue(rest.get(rest.size() - 1).hasCancelled(), rest.toString());
                assertEquals(JobState.CANCELLED, job(jobId).getState());
            }
        } finally {
            stages.decoderStepMillis = 1;
        }
    }

    @Test
    void closingTheStreamCancelsTheJob() throws Exception {
        stages.decoderStepMillis = 2000;
        try {
            HttpResponse<InputStream> r = stream("/v1/unclip/generate", HttpProfile.KEY,
                    "{\"prompt\":\"an abandoned circle\"}");
            String jobId;
            HttpClients.SseReader events = new HttpClients.SseReader(r.body());
            jobId = event(events.next()).getAccepted().getJobId();
            events.close(); // the client goes away
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            JobStatus s = job(jobId);
            while (s.getState() != JobState.CANCELLED && System.nanoTime() < deadline) {
                Thread.sleep(50);
                s = job(jobId);
            }
            assertEquals(JobState.CANCELLED, s.getState(), s.toString());
            assertTrue(s.getError().getMessage().contains("disconnect"), s.toString());
        } finally {
            stages.decoderStepMillis = 1;
        }
    }

    @Test
    void jsonDoorRefusalsAreOpenAiErrorsNamingTheField() throws Exception {
        JsonNode e = error(send(post(url("/v1/unclip/generate"), HttpProfile.KEY, "{\"prompt\":\"\"}")), 400);
        assertEquals("prompt", e.get("param").asText());
        assertTrue(e.get("message").asText().startsWith("prompt: "), e.toString());
        e = error(send(post(url("/v1/unclip/generate"), HttpProfile.KEY, "{\"prompt\":\"a\",\"numImages\":9}")), 400);
        assertEquals("num_images", e.get("param").asText());
        e = error(send(post(url("/v1/unclip/generate"), HttpProfile.KEY, "{\"promt\":\"a typo\"}")), 400);
        assertEquals("body", e.get("param").asText());
        assertTrue(e.get("message").asText().contains("promt"), e.toString());
        e = error(send(post(url("/v1/unclip/generate"), HttpProfile.KEY, "{not json")), 400);
        assertEquals("body", e.get("param").asText());
        error(send(HttpRequest.newBuilder(URI.create(url("/v1/unclip/jobs/job-404")))
                .header("Authorization", "Bearer " + HttpProfile.KEY)), 404);
        e = error(send(HttpRequest.newBuilder(URI.create(url("/v1/unclip/jobs/no%20spaces")))
                .header("Authorization", "Bearer " + HttpProfile.KEY)), 400);
        assertEquals("job_id", e.get("param").asText());
        e = error(send(post(url("/v1/unclip/interpolate"), HttpProfile.KEY, "{\"imageA\":\""
                + java.util.Base64.getEncoder().encodeToString(io.unclip.kafka.testkit.TestImages.encode("png", 8, 8)
                .toByteArray()) + "\",\"towardsPrompt\":\"a square\"}")), 501);
        assertTrue(e.get("message").asText().startsWith("towards_prompt"), e.toString());
    }

    // ---- the OpenAI Images API

    static java.awt.image.BufferedImage png(byte[] bytes) throws Exception {
        assertEquals((byte) 0x89, bytes[0]);
        assertEquals('P', bytes[1]);
        return javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(bytes));
    }

    @Test
    void generationsB64JsonHasThePngs() throws Exception {
        HttpResponse<String> r = send(post(url("/v1/images/generations"), HttpProfile.KEY,
                "{\"prompt\":\"a red circle\",\"n\":2,\"size\":\"8x8\",\"model\":\"dall-e-2\",\"user\":\"u-1\","
                        + "\"unclip\":{\"seed\":\"7\",\"decoder\":{\"guidanceScale\":3}}}"));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode body = JSON.readTree(r.body());
        assertTrue(body.get("created").asLong() > 1_700_000_000L, r.body());
        assertEquals(1, body.get("data").size(), "the fake stages make one image: " + r.body());
        var img = png(java.util.Base64.getDecoder().decode(body.get("data").get(0).get("b64_json").asText()));
        assertEquals(8, img.getWidth());
        assertEquals(8, img.getHeight());
        assertEquals("7", body.path("unclip").path("seed").asText());
        assertEquals(JobState.SUCCEEDED, job(body.path("unclip").path("job_id").asText()).getState());
    }

    @Test
    void generationsUrlPointsAtTheGatewaysFile() throws Exception {
        HttpResponse<String> r = send(post(url("/v1/images/generations"), HttpProfile.KEY,
                "{\"prompt\":\"a red circle\",\"response_format\":\"url\"}"));
        assertEquals(200, r.statusCode(), r.body());
        String link = JSON.readTree(r.body()).get("data").get(0).get("url").asText();
        assertTrue(link.startsWith(base.toString() + "v1/images/files/"), link);
        // a capability URL: no key needed
        HttpResponse<byte[]> file = HttpClients.HTTP.send(HttpRequest.newBuilder(URI.create(link)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, file.statusCode());
        assertEquals("image/png", file.headers().firstValue("Content-Type").orElse(""));
        assertEquals(8, png(file.body()).getWidth());
        HttpResponse<String> missing = send(HttpRequest.newBuilder(URI.create(link.replace("/0.png", "/5.png"))));
        error(missing, 404);
        error(send(HttpRequest.newBuilder(URI.create(url("/v1/images/files/" + java.util.UUID.randomUUID()
                + "/0.png")))), 404);
    }

    @Test
    void streamSendsAtMostNPartialImagesThenTheCompletedImage() throws Exception {
        // 8x8: the decoder alone; its preview at step 2 of 4 is half-way, the one partial image of N = 2
        HttpResponse<InputStream> r = HttpClients.HTTP.send(post(url("/v1/images/generations"), HttpProfile.KEY,
                "{\"prompt\":\"a red circle\",\"size\":\"8x8\",\"stream\":true,\"partial_images\":2}")
                .header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<HttpClients.Sse> events = HttpClients.events(r.body());
        List<String> names = events.stream().map(HttpClients.Sse::event).toList();
        assertEquals(List.of("image_generation.partial_image", "image_generation.completed"), names, names.toString());
        JsonNode partial = JSON.readTree(events.get(0).data());
        assertEquals("image_generation.partial_image", partial.get("type").asText());
        assertEquals(0, partial.get("partial_image_index").asInt());
        png(java.util.Base64.getDecoder().decode(partial.get("b64_json").asText()));
        JsonNode done = JSON.readTree(events.get(1).data());
        assertEquals("image_generation.completed", done.get("type").asText());
        assertEquals(8, png(java.util.Base64.getDecoder().decode(done.get("b64_json").asText())).getWidth());

        // the largest size: decoder and two upsamplers; N = 1 takes the preview past half of it (the upsampler's)
        r = HttpClients.HTTP.send(post(url("/v1/images/generations"), HttpProfile.KEY,
                "{\"prompt\":\"a red circle\",\"stream\":true,\"partial_images\":1}").build(),
                HttpResponse.BodyHandlers.ofInputStream());
        events = HttpClients.events(r.body());
        assertEquals(List.of("image_generation.partial_image", "image_generation.completed"),
                events.stream().map(HttpClients.Sse::event).toList());
        // partial_images 0: the final image alone
        r = HttpClients.HTTP.send(post(url("/v1/images/generations"), HttpProfile.KEY,
                "{\"prompt\":\"a red circle\",\"stream\":true}").build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(List.of("image_generation.completed"),
                HttpClients.events(r.body()).stream().map(HttpClients.Sse::event).toList());
    }

    @Test
    void aFailedJobIsItsStatusAndAnErrorEventInAStream() throws Exception {
        JsonNode e = error(send(post(url("/v1/images/generations"), HttpProfile.KEY,
                "{\"prompt\":\"a poison circle\"}")), 400);
        assertTrue(e.get("message").asText().contains("prompt: poisoned"), e.toString());
        HttpResponse<InputStream> r = HttpClients.HTTP.send(post(url("/v1/images/generations"), HttpProfile.KEY,
                "{\"prompt\":\"a poison circle\",\"stream\":true}").build(), HttpResponse.BodyHandlers.ofInputStream());
        List<HttpClients.Sse> events = HttpClients.events(r.body());
        assertEquals("error", events.get(events.size() - 1).event(), events.toString());
        assertTrue(JSON.readTree(events.get(events.size() - 1).data()).path("error").path("message").asText()
                .contains("poisoned"), events.toString());
    }

    @Test
    void badOpenAiParametersAre400NamingTheParameter() throws Exception {
        record Case(String body, String param) {
        }
        for (Case c : List.of(
                new Case("{\"prompt\":\"a\",\"size\":\"64x64\"}", "size"),
                new Case("{\"prompt\":\"a\",\"size\":\"32x8\"}", "size"),
                new Case("{\"prompt\":\"a\",\"size\":\"big\"}", "size"),
                new Case("{\"prompt\":\"a\",\"n\":9}", "n"),
                new Case("{\"prompt\":\"a\",\"n\":\"two\"}", "n"),
                new Case("{\"n\":1}", "prompt"),
                new Case("{\"prompt\":\"a\",\"response_format\":\"jpeg\"}", "response_format"),
                new Case("{\"prompt\":\"a\",\"output_format\":\"webp\"}", "output_format"),
                new Case("{\"prompt\":\"a\",\"background\":\"transparent\"}", "background"),
                new Case("{\"prompt\":\"a\",\"stream\":true,\"partial_images\":4}", "partial_images"),
                new Case("{\"prompt\":\"a\",\"seed\":1}", "seed"),
                new Case("{\"prompt\":\"a\",\"unclip\":{\"decoder\":{\"guidanceScale\":99}}}",
                        "unclip.decoder.guidance_scale"),
                new Case("{\"prompt\":\"a\",\"unclip\":{\"size\":8}}", "unclip.size"),
                new Case("{\"prompt\":\"a\",\"unclip\":{\"sede\":8}}", "unclip"),
                new Case("[1]", "body"))) {
            JsonNode e = error(send(post(url("/v1/images/generations"), HttpProfile.KEY, c.body())), 400);
            assertEquals(c.param(), e.get("param").asText(), c.body() + " -> " + e);
            assertEquals("invalid_request_error", e.get("type").asText());
        }
        JsonNode e = error(send(post(url("/v1/images/generations"), HttpProfile.KEY,
                "{\"prompt\":\"a\",\"size\":\"64x64\"}")), 400);
        assertTrue(e.get("message").asText().contains("8x8, 32x32, 128x128"), e.toString());
    }

    @Test
    void variationsTakeAMultipartUpload() throws Exception {
        byte[] src = io.unclip.kafka.testkit.TestImages.encode("png", 64, 64).toByteArray();
        HttpResponse<String> r = send(HttpClients.multipart(url("/v1/images/variations"), HttpProfile.KEY,
                java.util.Map.of("n", "1", "size", "8x8", "response_format", "b64_json", "user", "u-2",
                        "unclip", "{\"seed\":\"3\"}"), src));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertEquals(8, png(java.util.Base64.getDecoder().decode(body.get("data").get(0).get("b64_json").asText()))
                .getWidth());
        assertEquals("3", body.path("unclip").path("seed").asText());
        JsonNode e = error(send(HttpClients.multipart(url("/v1/images/variations"), HttpProfile.KEY,
                java.util.Map.of("n", "1"), null)), 400);
        assertEquals("image", e.get("param").asText());
        e = error(send(HttpClients.multipart(url("/v1/images/variations"), HttpProfile.KEY, java.util.Map.of(),
                io.unclip.kafka.testkit.TestImages.truncatedPng(40, 40).toByteArray())), 400);
        assertEquals("image", e.get("param").asText());
        e = error(send(HttpClients.multipart(url("/v1/images/variations"), HttpProfile.READER, java.util.Map.of(),
                src)), 403);
    }

    // ---- keys

    @Test
    void callsNeedAKeyAllowedTheMethodTheRouteStandsFor() throws Exception {
        String body = "{\"prompt\":\"a red circle\"}";
        JsonNode e = error(send(post(url("/v1/unclip/generate"), null, body)), 401);
        assertTrue(e.get("message").asText().contains("Authorization: Bearer"), e.toString());
        error(send(post(url("/v1/unclip/generate"), "uk_not-a-key", body)), 401);
        error(send(post(url("/v1/unclip/generate"), null, body).header("Authorization", "Basic YTpi")), 401);
        e = error(send(post(url("/v1/images/generations"), null, body)), 401);
        assertEquals("invalid_api_key", e.get("code").asText());
        // the reader key may call GetJob only, at this door as at the gRPC one
        e = error(send(post(url("/v1/unclip/generate"), HttpProfile.READER, body)), 403);
        assertTrue(e.get("message").asText().contains("unclip.v1.ImageService/Generate"), e.toString());
        error(send(HttpRequest.newBuilder(URI.create(url("/v1/unclip/jobs/job-404")))
                .header("Authorization", "Bearer " + HttpProfile.READER)), 404);
        error(send(post(url("/v1/unclip/jobs/job-404/cancel"), HttpProfile.READER, "")), 403);
        // health, metrics stay open
        assertEquals(200, send(HttpRequest.newBuilder(URI.create(url("/q/health/ready")))).statusCode());
        assertEquals(200, send(HttpRequest.newBuilder(URI.create(url("/q/metrics")))).statusCode());
    }

    @Test
    void tooLargeABodyIs413() throws Exception {
        // (HTTP/1.1, as curl and the SDKs send it)
        String big = "{\"prompt\":\"" + "x".repeat(25 * 1024 * 1024) + "\"}";
        HttpResponse<String> r = send(post(url("/v1/unclip/generate"), HttpProfile.KEY, big));
        error(r, 413);
    }

    @Test
    void moreStreamsThanTheLimitAre429() throws Exception {
        stages.decoderStepMillis = 2000;
        List<HttpClients.SseReader> open = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        try {
            for (int i = 0; i < HttpProfile.MAX_STREAMS; i++) {
                HttpResponse<InputStream> r = stream("/v1/unclip/generate", HttpProfile.KEY,
                        "{\"prompt\":\"a queued circle\"}");
                assertEquals(200, r.statusCode());
                HttpClients.SseReader events = new HttpClients.SseReader(r.body());
                open.add(events);
                ids.add(event(events.next()).getAccepted().getJobId());
            }
            JsonNode e = error(send(post(url("/v1/unclip/generate"), HttpProfile.KEY, "{\"prompt\":\"one more\"}")),
                    429);
            assertTrue(e.get("message").asText().contains("unclip.gateway.max-streams"), e.toString());
        } finally {
            stages.decoderStepMillis = 1;
            for (String id : ids) {
                send(post(url("/v1/unclip/jobs/" + id + "/cancel"), HttpProfile.KEY, ""));
            }
            for (HttpClients.SseReader r : open) {
                r.close();
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (openStreams() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, openStreams(), "every stream slot back");
    }

    @Inject
    ImageJobs jobs;

    int openStreams() {
        return jobs.openStreams();
    }
}
