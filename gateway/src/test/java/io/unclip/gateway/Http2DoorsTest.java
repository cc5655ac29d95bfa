package io.unclip.gateway;

import static io.unclip.gateway.HttpClients.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.fasterxml.jackson.databind.JsonNode;

import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;

/**
 * The OpenAI door over HTTP/2 on TLS, as curl (on https) and browsers call it: JSON and event-stream answers of
 * {@code POST /v1/images/generations}, and its refusals. Each response is checked to have come over HTTP/2 (ALPN
 * h2), the protocol on which a request whose body was read before REST took it fails.
 */
@QuarkusTest
@TestProfile(HttpProfile.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Http2DoorsTest {
    @TestHTTPResource(value = "/", tls = true)
    URL base;

    @TestHTTPResource("/")
    URL plain;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Inject
    MeterRegistry registry;

    @Inject
    OpenTelemetry telemetry;

    FakeStages stages;
    HttpClient h2;

    @BeforeAll
    void start() throws Exception {
        assertEquals("https", base.getProtocol(), base.toString());
        h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(TestTls.clientContext())
                .connectTimeout(Duration.ofSeconds(10)).build();
        stages = new FakeStages(bootstrap, Files.createTempDirectory("unclip-results"), registry, telemetry);
        HttpDoorsTest.awaitReady(plain);
    }

    @AfterAll
    void stop() {
        if (stages != null) {
            stages.close();
        }
    }

    String url(String path) {
        return base + path.substring(1);
    }

    @Test
    void generationsAnswerJsonOverHttp2() throws Exception {
        HttpResponse<String> r = h2.send(post(url("/v1/images/generations"), HttpProfile.KEY,
                "{\"prompt\":\"a red circle\",\"size\":\"8x8\",\"unclip\":{\"seed\":\"5\"}}")
                // the body's stream says JSON or events, not Accept
                .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                r.headers().toString());
        JsonNode body = HttpDoorsTest.JSON.readTree(r.body());
        assertEquals(8, HttpDoorsTest.png(Base64.getDecoder().decode(body.get("data").get(0).get("b64_json")
                .asText())).getWidth());
        assertEquals("5", body.path("unclip").path("seed").asText());
    }

    @Test
    void generationsStreamOverHttp2() throws Exception {
        HttpResponse<InputStream> r = h2.send(post(url("/v1/images/generations"), HttpProfile.KEY,
                "{\"prompt\":\"a red circle\",\"size\":\"8x8\",\"stream\":true,\"partial_images\":2}")
                .header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"),
                r.headers().toString());
        List<HttpClients.Sse> events = HttpClients.events(r.body());
        assertEquals(List.of("image_generation.partial_image", "image_generation.completed"),
                events.stream().map(HttpClients.Sse::event).toList(), events.toString());
        JsonNode done = HttpDoorsTest.JSON.readTree(events.get(1).data());
        assertEquals(8, HttpDoorsTest.png(Base64.getDecoder().decode(done.get("b64_json").asText())).getWidth());
    }

    @Test
    void refusalsKeepTheirShapeOverHttp2() throws Exception {
        HttpResponse<String> r = h2.send(post(url("/v1/images/generations"), HttpProfile.KEY,
                "{\"prompt\":\"a\",\"size\":\"64x64\",\"stream\":true}").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        assertEquals("size", HttpDoorsTest.error(r, 400).get("param").asText());
        r = h2.send(post(url("/v1/images/generations"), null, "{\"prompt\":\"a red circle\"}").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("invalid_api_key", HttpDoorsTest.error(r, 401).get("code").asText());
        r = h2.send(post(url("/v1/images/generations"), HttpProfile.KEY, "[1]").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("body", HttpDoorsTest.error(r, 400).get("param").asText());
    }
}
