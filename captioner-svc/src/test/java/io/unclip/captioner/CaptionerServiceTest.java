package io.unclip.captioner;

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
import io.unclip.api.v1.CaptionImageRequest;
import io.unclip.api.v1.CaptionerServiceGrpc;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.validate.GrpcStatuses;

/** The running service over a real socket, with the plain grpc-java client a CLI would use. */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CaptionerServiceTest {
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

    StatusRuntimeException caption(CaptionImageRequest request) {
        var stub = CaptionerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        return assertThrows(StatusRuntimeException.class, () -> stub.caption(request).forEachRemaining(e -> {
        }));
    }

    @Test
    void grpcHealthIsServing() {
        var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                health.check(HealthCheckRequest.newBuilder().setService(CaptionerServiceGrpc.SERVICE_NAME).build()).getStatus());
    }

    @Test
    void invalidRequestIsInvalidArgumentNamingTheField() {
        StatusRuntimeException e = caption(CaptionRequestValidatorTest.valid()
                .setImage(ImageRef.newBuilder().setPng(Images.pngHeaderClaiming(5000, 5000))).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("image.png: image is 5000x5000"), e.getStatus().getDescription());
        assertEquals("image.png", GrpcStatuses.badRequest(e).getFieldViolations(0).getField());

        // a 9 MiB upload reaches the validator (the server accepts messages up to 20 MiB)
        e = caption(CaptionRequestValidatorTest.valid().setImage(ImageRef.newBuilder()
                .setPng(Images.encode("png", 4, 4).concat(com.google.protobuf.ByteString.copyFrom(new byte[9 << 20])))).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("image.png: must be at most 8388608 bytes"),
                e.getStatus().getDescription());
    }

    @Test
    void validRequestSaysTheModelIsNotLoaded() {
        StatusRuntimeException e = caption(CaptionRequestValidatorTest.valid().build());
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("captioner model not loaded: unclip.models.dir is not set"),
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
