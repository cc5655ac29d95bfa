package io.unclip.gateway;

import static io.unclip.gateway.HttpClients.post;
import static io.unclip.gateway.HttpClients.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/** The HTTP doors of a gateway whose pipeline is not running (no Kafka here): 503, in OpenAI's error shape. */
@QuarkusTest
class HttpNotReadyTest {
    @TestHTTPResource("/")
    URL base;

    @Test
    void submissionsAre503UntilThePipelineRuns() throws Exception {
        for (String path : java.util.List.of("v1/images/generations", "v1/unclip/generate")) {
            JsonNode e = HttpDoorsTest.error(send(post(base + path, null, "{\"prompt\":\"a red circle\"}")), 503);
            assertEquals("server_error", e.get("type").asText(), e.toString());
            assertTrue(e.get("message").asText().startsWith("distributed pipeline not started"), e.toString());
        }
        // bad input is still 400 first, as at the gRPC door
        JsonNode e = HttpDoorsTest.error(send(post(base + "v1/images/generations", null, "{\"prompt\":\"\"}")), 400);
        assertEquals("prompt", e.get("param").asText());
    }
}
