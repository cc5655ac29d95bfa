package io.unclip.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
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
import io.unclip.kafka.testkit.TestImages;
import jakarta.inject.Inject;

/**
 * The official OpenAI Node SDK ({@code openai}, pinned in src/test/node/package.json) against the running gateway:
 * src/test/node/sdk-check.mjs generates with b64_json and url, iterates a stream of partial images, gets a
 * BadRequestError for a size the bundle does not make, makes a variation of an uploaded file and an
 * AuthenticationError for a wrong key; this test checks its report. Needs node: without it the test is skipped;
 * without node_modules it runs {@code npm ci} first (CI reaches the npm registry).
 */
@QuarkusTest
@TestProfile(HttpProfile.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenAiSdkTest {
    static final Path NODE_DIR = Path.of("src/test/node").toAbsolutePath();

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
        Assumptions.assumeTrue(run(List.of("node", "--version"), 30).exit() == 0,
                "node is not on the PATH: the OpenAI SDK test needs Node.js 20+");
        if (!Files.isDirectory(NODE_DIR.resolve("node_modules/openai"))) {
            Result ci = run(List.of("npm", "ci", "--no-audit", "--no-fund", "--prefix", NODE_DIR.toString()), 300);
            Assumptions.assumeTrue(ci.exit() == 0, () -> "npm ci in " + NODE_DIR + " failed (no npm registry?): "
                    + ci.output());
        }
        stages = new FakeStages(bootstrap, Files.createTempDirectory("unclip-results"), registry, telemetry);
        HttpDoorsTest.awaitReady(base);
    }

    @AfterAll
    void stop() {
        if (stages != null) {
            stages.close();
        }
    }

    record Result(int exit, String output) {
    }

    static Result run(List<String> command, long seconds) {
        return run(new ProcessBuilder(command), seconds);
    }

    static Result run(ProcessBuilder pb, long seconds) {
        try {
            Path out = Files.createTempFile("unclip-node", ".log");
            Process p = pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                return new Result(-1, "timed out after " + seconds + " s: " + Files.readString(out));
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            Files.deleteIfExists(out);
            return new Result(p.exitValue(), text);
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, e.toString());
        }
    }

    @Test
    void theOpenAiNodeSdkGetsImagesFromTheGateway() throws Exception {
        Path source = Files.createTempFile("unclip-source", ".png");
        Files.write(source, TestImages.encode("png", 64, 64).toByteArray());
        ProcessBuilder pb = new ProcessBuilder("node", "sdk-check.mjs").directory(NODE_DIR.toFile());
        pb.environment().put("UNCLIP_BASE_URL", base + "v1");
        pb.environment().put("UNCLIP_API_KEY", HttpProfile.KEY);
        pb.environment().put("UNCLIP_IMAGE", source.toString());
        long t0 = System.nanoTime();
        Result r = run(pb, 120);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(0, r.exit(), r.output());
        String last = r.output().strip().lines().reduce((a, b) -> b).orElse("");
        JsonNode report = new ObjectMapper().readTree(last);

        assertEquals(1, report.at("/b64/count").asInt(), last);
        assertEquals(8, report.at("/b64/width").asInt(), last);
        assertTrue(report.at("/b64/created").asLong() > 1_700_000_000L, last);
        assertEquals(200, report.at("/url/status").asInt(), last);
        assertEquals("image/png", report.at("/url/type").asText(), last);
        assertEquals(8, report.at("/url/width").asInt(), last);

        JsonNode stream = report.get("stream");
        assertTrue(stream.size() >= 1 && stream.size() <= 3, "at most 2 partial images, then the image: " + stream);
        for (int i = 0; i < stream.size() - 1; i++) {
            assertEquals("image_generation.partial_image", stream.get(i).get("type").asText(), last);
            assertEquals(i, stream.get(i).get("partial_image_index").asInt(), last);
        }
        assertEquals("image_generation.completed", stream.get(stream.size() - 1).get("type").asText(), last);
        assertEquals(8, stream.get(stream.size() - 1).get("width").asInt(), last);

        JsonNode bad = report.get("badSize");
        assertTrue(bad.get("thrown").asBoolean() && bad.get("badRequest").asBoolean(), last);
        assertEquals(400, bad.get("status").asInt(), last);
        assertEquals("size", bad.get("param").asText(), last);
        assertEquals("invalid_request_error", bad.get("type").asText(), last);
        assertTrue(bad.get("message").asText().contains("1024x1024 is not a size this gateway makes"), last);

        assertEquals(8, report.at("/variation/width").asInt(), last);
        assertTrue(report.at("/wrongKey/authentication").asBoolean(), last);
        assertEquals(401, report.at("/wrongKey/status").asInt(), last);
        System.out.printf("OpenAI Node SDK: 6 calls against the gateway in %d ms (node start included)%n", ms);
    }
}
