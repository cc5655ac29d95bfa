package io.unclip.textencoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import grpc.health.v1.HealthGrpc;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.unclip.api.v1.EncodeRequest;
import io.unclip.api.v1.TextEncoderServiceGrpc;
import io.unclip.api.validate.GrpcStatuses;

/** The running service over a real socket, with the plain grpc-java client a CLI would use. */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TextEncoderServiceTest {
    @TestHTTPResource("/")
    URL base;

    ManagedChannel channel;

    @BeforeAll
    void connect() {
        channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
    }

    @AfterAll
    void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    StatusRuntimeException encode(EncodeRequest request) {
        var stub = TextEncoderServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        return assertThrows(StatusRuntimeException.class, () -> stub.encode(request));
    }

    @Test
    void grpcHealthIsServing() {
        var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                health.check(HealthCheckRequest.newBuilder().setService(TextEncoderServiceGrpc.SERVICE_NAME).build()).getStatus());
    }

    @Test
    void invalidRequestIsInvalidArgumentNamingTheField() {
        StatusRuntimeException e = encode(EncodeRequestValidatorTest.valid().addPrompts("x".repeat(300)).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("prompts[1]: must be at most 256 characters, got 300", e.getStatus().getDescription());
        assertEquals("prompts[1]", GrpcStatuses.badRequest(e).getFieldViolations(0).getField());

        e = encode(EncodeRequest.newBuilder().addPrompts("").build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("prompts[0]: is required", e.getStatus().getDescription());
    }

    @Test
    void validRequestSaysTheModelIsNotLoaded() {
        StatusRuntimeException e = encode(EncodeRequestValidatorTest.valid().build());
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("text-encoder model not loaded: unclip.models.dir is not set"),
                e.getStatus().getDescription());
    }

    @Test
    void readinessIsDownWithTheReasonAndMetricsAreServed() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(base + "q/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(503, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("\"DOWN\""), ready.body());
        assertTrue(ready.body().contains("unclip.models.dir is not set"), ready.body());

        HttpResponse<String> live = http.send(HttpRequest.newBuilder(URI.create(base + "q/health/live")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, live.statusCode(), live.body());

        HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("jvm_"), "prometheus metrics");
    }
}
