package io.unclip.prior;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * A service whose model is loaded but whose Kafka cannot be reached (a broker that comes up later,
 * as on Kubernetes): not ready and NOT_SERVING, but alive, so it is not restarted while it retries.
 */
@QuarkusTest
@TestProfile(PriorHealthConnectingTest.NoBroker.class)
class PriorHealthConnectingTest {
    public static class NoBroker implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            int closed;
            try (ServerSocket s = new ServerSocket(0)) {
                closed = s.getLocalPort(); // nothing listens there once closed
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
            return Map.of("unclip.models.dir", System.getProperty("unclip.test.bundle"),
                    "kafka.bootstrap.servers", "127.0.0.1:" + closed);
        }
    }

    @TestHTTPResource("/")
    URL base;

    @Test
    void connectingIsAliveButNotReadyNorServing() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        HttpResponse<String> ready = get(http, "q/health/ready");
        while (!ready.body().contains("creating topics") && !ready.body().contains("worker not started")
                && System.nanoTime() < deadline) {
            Thread.sleep(100); // the model loads first, then the worker tries Kafka
            ready = get(http, "q/health/ready");
        }
        assertEquals(503, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("\"prior model\""), ready.body());

        HttpResponse<String> live = get(http, "q/health/live");
        assertEquals(200, live.statusCode(), live.body());
        assertTrue(live.body().contains("kafka worker"), live.body());

        ManagedChannel channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            assertEquals(ServingStatus.NOT_SERVING, HealthGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.newBuilder().setService("").build()).getStatus());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    HttpResponse<String> get(HttpClient http, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
