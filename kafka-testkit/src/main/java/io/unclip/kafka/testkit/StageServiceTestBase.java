package io.unclip.kafka.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.quarkus.test.common.http.TestHTTPResource;

/**
 * What every stage service shows when it runs without a model bundle, checked over real sockets
 * with the plain grpc-java client a CLI would use: readiness DOWN naming the missing setting, gRPC
 * health NOT_SERVING for the server and for the stage's service (it follows readiness), liveness
 * UP, Prometheus metrics.
 * A service's test extends this and adds its own request checks on {@link #channel}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class StageServiceTestBase {
    @TestHTTPResource("/")
    protected URL base;

    protected ManagedChannel channel;

    private final String serviceName;

    /** @param serviceName the stage's gRPC service, e.g. {@code DecoderServiceGrpc.SERVICE_NAME} */
    protected StageServiceTestBase(String serviceName) {
        this.serviceName = serviceName;
    }

    @BeforeAll
    void connect() {
        channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
    }

    @AfterAll
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void grpcHealthIsNotServingWhileReadinessIsDown() {
        // no model: readiness is DOWN, so gRPC health (what gRPC probes and load balancers ask) says so too
        var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        assertEquals(HealthCheckResponse.ServingStatus.NOT_SERVING,
                health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus());
        assertEquals(HealthCheckResponse.ServingStatus.NOT_SERVING,
                health.check(HealthCheckRequest.newBuilder().setService(serviceName).build()).getStatus());
    }

    @Test
    void readinessIsDownWithTheReasonAndMetricsAreServed() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> ready = get(http, "q/health/ready");
        assertEquals(503, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("\"DOWN\""), ready.body());
        assertTrue(ready.body().contains("unclip.models.dir is not set"), ready.body());

        HttpResponse<String> live = get(http, "q/health/live");
        assertEquals(200, live.statusCode(), live.body());

        HttpResponse<String> metrics = get(http, "q/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("jvm_"), "prometheus metrics");
    }

    private HttpResponse<String> get(HttpClient http, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
