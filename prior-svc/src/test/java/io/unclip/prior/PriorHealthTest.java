package io.unclip.prior;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.unclip.api.v1.PriorServiceGrpc;
import io.unclip.kafka.testkit.Ready;
import io.unclip.kafka.testkit.WorkerTestProfile;

/**
 * Liveness and gRPC health of a running service with its worker on a real broker: both UP /
 * SERVING once ready; when the worker's poll thread dies by itself, liveness goes DOWN (so
 * Kubernetes restarts the pod) and gRPC health goes NOT_SERVING with readiness, for Check and
 * for an open Watch, asked with the plain grpc-java health client.
 */
@QuarkusTest
@TestProfile(PriorHealthTest.OwnApp.class)
class PriorHealthTest {
    /** Its own application (and broker): this test kills the worker. */
    public static class OwnApp extends WorkerTestProfile {
    }

    @TestHTTPResource("/")
    URL base;

    @Test
    void aDeadPollThreadFailsLivenessAndGrpcHealthFollowsReadiness() throws Exception {
        Ready.await(base.toString(), Duration.ofSeconds(60));
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> live = get(http, "q/health/live");
        assertEquals(200, live.statusCode(), live.body());
        assertTrue(live.body().contains("kafka worker"), live.body());

        ManagedChannel channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            assertEquals(ServingStatus.SERVING, check(health, ""));
            assertEquals(ServingStatus.SERVING, check(health, PriorServiceGrpc.SERVICE_NAME));

            BlockingQueue<ServingStatus> watched = new LinkedBlockingQueue<>();
            HealthGrpc.newStub(channel).watch(HealthCheckRequest.newBuilder().setService("").build(),
                    new StreamObserver<>() {
                        public void onNext(HealthCheckResponse r) {
                            watched.add(r.getStatus());
                        }

                        public void onError(Throwable t) {
                        }

                        public void onCompleted() {
                        }
                    });
            assertEquals(ServingStatus.SERVING, watched.poll(10, TimeUnit.SECONDS));

            // an unexpected end of the poll thread: an interrupt makes its consumer throw
            Thread poll = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("unclip-prior-poll")).findFirst().orElse(null);
            assertNotNull(poll, "the worker's poll thread");
            poll.interrupt();
            poll.join(10_000);
            assertFalse(poll.isAlive());

            live = get(http, "q/health/live");
            assertEquals(503, live.statusCode(), live.body());
            assertTrue(live.body().contains("worker stopped"), live.body());
            HttpResponse<String> ready = get(http, "q/health/ready");
            assertEquals(503, ready.statusCode(), ready.body());

            assertEquals(ServingStatus.NOT_SERVING, check(health, ""));
            assertEquals(ServingStatus.NOT_SERVING, check(health, PriorServiceGrpc.SERVICE_NAME));
            assertEquals(ServingStatus.NOT_SERVING, watched.poll(10, TimeUnit.SECONDS), "Watch is told within seconds");
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    static ServingStatus check(HealthGrpc.HealthBlockingStub health, String service) {
        return health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
    }

    HttpResponse<String> get(HttpClient http, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
