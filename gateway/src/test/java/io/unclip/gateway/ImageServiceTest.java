package io.unclip.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.unclip.api.v1.CancelRequest;
import io.unclip.api.v1.CaptionRequest;
import io.unclip.api.v1.GetJobRequest;
import io.unclip.api.v1.ImageServiceGrpc;
import io.unclip.api.v1.InterpolateRequest;
import io.unclip.api.v1.VariationsRequest;
import io.unclip.kafka.testkit.TestImages;
import io.unclip.service.GrpcStatuses;

/** The running gateway over a real socket, with the plain grpc-java client a CLI would use. */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImageServiceTest {
    @TestHTTPResource("/")
    URL base;

    ManagedChannel channel;
    ImageServiceGrpc.ImageServiceBlockingStub images;

    @BeforeAll
    void connect() {
        channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        images = ImageServiceGrpc.newBlockingStub(channel);
    }

    @AfterAll
    void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    static io.unclip.api.v1.GenerateRequest.Builder generate() {
        return io.unclip.api.v1.GenerateRequest.newBuilder()
                .setPrompt("a small red circle at the top left on a white background")
                .setNumImages(4)
                .setSeed(0)
                .setSize(128)
                .setPreviewInterval(5);
    }

    /** Calls a (streaming or unary) RPC and returns the status it fails with. */
    <T> StatusRuntimeException failure(Function<ImageServiceGrpc.ImageServiceBlockingStub, T> call) {
        var stub = images.withDeadlineAfter(60, TimeUnit.SECONDS);
        return assertThrows(StatusRuntimeException.class, () -> {
            Object result = call.apply(stub);
            if (result instanceof java.util.Iterator<?> it) {
                it.forEachRemaining(e -> {
                });
            }
        });
    }

    static void assertInvalid(StatusRuntimeException e, String field) {
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().startsWith(field + ": "), e.getStatus().getDescription());
        assertEquals(field, GrpcStatuses.badRequest(e).getFieldViolations(0).getField());
    }

    @Test
    void grpcHealthFollowsReadinessAndReflectionListsTheApi() throws Exception {
        // no Kafka here: readiness is DOWN (pipeline not started), and gRPC health says the same
        var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        assertEquals(HealthCheckResponse.ServingStatus.NOT_SERVING,
                health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus());
        assertEquals(HealthCheckResponse.ServingStatus.NOT_SERVING,
                health.check(HealthCheckRequest.newBuilder().setService(ImageServiceGrpc.SERVICE_NAME).build()).getStatus());

        CompletableFuture<ServerReflectionResponse> reply = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                .withDeadlineAfter(60, TimeUnit.SECONDS)
                .serverReflectionInfo(new StreamObserver<>() {
                    public void onNext(ServerReflectionResponse r) {
                        reply.complete(r);
                    }

                    public void onError(Throwable t) {
                        reply.completeExceptionally(t);
                    }

                    public void onCompleted() {
                    }
                });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        List<String> services = reply.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
                .map(s -> s.getName()).toList();
        assertTrue(services.contains("unclip.v1.ImageService"), services.toString());
    }

    @Test
    void invalidRequestsAreInvalidArgumentNamingTheField() {
        assertInvalid(failure(s -> s.generate(generate().setPrompt("").build())), "prompt");
        assertInvalid(failure(s -> s.generate(generate().setPrompt("x".repeat(257)).build())), "prompt");
        assertInvalid(failure(s -> s.generate(generate().setNumImages(9).build())), "num_images");
        assertInvalid(failure(s -> s.generate(generate()
                .setDecoder(io.unclip.api.v1.SamplerParams.newBuilder().setGuidanceScale(51)).build())), "decoder.guidance_scale");
        assertInvalid(failure(s -> s.variations(VariationsRequest.newBuilder()
                .setImage(TestImages.pngHeaderClaiming(5000, 5000)).build())), "image");
        assertInvalid(failure(s -> s.interpolate(InterpolateRequest.newBuilder()
                .setImageA(TestImages.encode("png", 8, 8)).build())), "target");
        assertInvalid(failure(s -> s.caption(CaptionRequest.newBuilder().build())), "image");
        assertInvalid(failure(s -> s.getJob(GetJobRequest.newBuilder().setJobId("no spaces").build())), "job_id");
    }

    @Test
    void validSubmissionsAreUnavailableUntilThePipelineRuns() {
        for (StatusRuntimeException e : List.of(
                failure(s -> s.generate(generate().build())),
                failure(s -> s.variations(VariationsRequest.newBuilder().setImage(TestImages.encode("png", 64, 64)).build())))) {
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getStatus().toString());
            assertTrue(e.getStatus().getDescription().startsWith("distributed pipeline not started"),
                    e.getStatus().getDescription());
        }
        StatusRuntimeException e = failure(s -> s.caption(CaptionRequest.newBuilder()
                .setImage(TestImages.encode("jpg", 64, 64)).build()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().contains("unclip.captioner.address is not set"),
                e.getStatus().getDescription());
    }

    @Test
    void unknownJobsAreNotFound() {
        StatusRuntimeException e = failure(s -> s.getJob(GetJobRequest.newBuilder().setJobId("job-404").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertEquals("job job-404 not found", e.getStatus().getDescription());
        e = failure(s -> s.cancel(CancelRequest.newBuilder().setJobId("job-404").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    }

    @Test
    void readinessIsDownWithTheReasonAndMetricsAreServed() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(base + "q/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(503, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("distributed pipeline not started"), ready.body());

        HttpResponse<String> live = http.send(HttpRequest.newBuilder(URI.create(base + "q/health/live")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, live.statusCode(), live.body());

        HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("jvm_"), "prometheus metrics");
    }

    @Test
    void corruptUploadsAreInvalidArgumentAtTheDoor() {
        com.google.protobuf.ByteString cut = TestImages.truncatedPng(40, 40);
        assertInvalid(failure(s -> s.variations(VariationsRequest.newBuilder().setImage(cut).build())), "image");
        assertInvalid(failure(s -> s.interpolate(InterpolateRequest.newBuilder().setImageA(TestImages.encode("png", 8, 8))
                .setImageB(cut).build())), "image_b");
        StatusRuntimeException e = failure(s -> s.caption(CaptionRequest.newBuilder().setImage(cut).build()));
        assertInvalid(e, "image");
        assertTrue(e.getStatus().getDescription().startsWith("image: corrupt PNG"), e.getStatus().getDescription());
    }

    @Test
    void aPromptThatIsNotUtf8IsInvalidArgument() throws Exception {
        byte[] ok = generate().setPrompt("a red XX circle").build().toByteArray();
        Status s = io.unclip.kafka.testkit.RawGrpc.call(channel, ImageServiceGrpc.getGenerateMethod().getFullMethodName(),
                io.unclip.kafka.testkit.RawGrpc.breakUtf8(ok, "XX"));
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
        assertTrue(s.getDescription().startsWith("request: is not a valid"), s.getDescription());
    }
}
