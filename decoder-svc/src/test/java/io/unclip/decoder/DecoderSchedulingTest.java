package io.unclip.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.unclip.api.v1.DecodeEvent;
import io.unclip.api.v1.DecodeRequest;
import io.unclip.api.v1.DecoderServiceGrpc;
import io.unclip.api.v1.SamplerParams;
import io.unclip.kafka.testkit.WorkerTestBase;
import io.unclip.kafka.testkit.WorkerTestProfile;
import io.unclip.service.kafka.Topics;

/**
 * The decoder's gRPC calls share its step scheduler: two calls sampling at once share each model
 * call (rows per call on /q/metrics, a histogram with buckets), a third waits, and a fourth,
 * with the queue full, is RESOURCE_EXHAUSTED with a message.
 */
@QuarkusTest
@TestProfile(DecoderSchedulingTest.SmallQueue.class)
class DecoderSchedulingTest extends WorkerTestBase {
    /** Two one-image requests with guidance (4 rows) sample at once; one more may wait. */
    public static class SmallQueue extends WorkerTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> m = new HashMap<>(super.getConfigOverrides());
            m.put("unclip.scheduler.max-active-rows", "4");
            m.put("unclip.scheduler.max-queued", "1");
            return m;
        }
    }

    ManagedChannel channel;
    final HttpClient http = HttpClient.newHttpClient();
    final ExecutorService clients = Executors.newCachedThreadPool();

    DecoderSchedulingTest() {
        super(Topics.RESULTS, Topics.DEAD_LETTER, Topics.DECODER);
    }

    @BeforeAll
    void connect() {
        channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
    }

    @AfterAll
    void disconnect() {
        channel.shutdownNow();
        clients.shutdownNow();
    }

    DecodeRequest request(int seed, int steps) {
        Random r = new Random(seed);
        return DecodeRequest.newBuilder().setImageEmbeds(DecoderWorkerTest.random(r, 1, 16)).setText(DecoderWorkerTest.text(r))
                .setUnconditional(DecoderWorkerTest.text(r)).setSeed(seed)
                .setParams(SamplerParams.newBuilder().setSteps(steps).setGuidanceScale(3)).build();
    }

    CompletableFuture<List<DecodeEvent>> decode(DecodeRequest request) {
        return CompletableFuture.supplyAsync(() -> {
            List<DecodeEvent> events = new ArrayList<>();
            DecoderServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS).decode(request)
                    .forEachRemaining(events::add);
            return events;
        }, clients); // not the common pool: on 2 cores it runs one call at a time
    }

    String metrics() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    static double value(String metrics, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+-]+)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    /** Waits until the decoder's scheduler has {@code active} requests sampling and {@code queued} waiting. */
    void awaitGauges(int active, int queued) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String m = metrics();
        while (value(m, "unclip_scheduler_queued_requests{scheduler=\"decoder\"}") != queued
                || value(m, "unclip_scheduler_active_requests{scheduler=\"decoder\"}") != active) {
            assertTrue(System.nanoTime() < deadline, active + " sampling and " + queued + " waiting:\n" + m);
            Thread.sleep(5);
            m = metrics();
        }
    }

    @Test
    void callsShareModelCallsAndAFullQueueIsResourceExhausted() throws Exception {
        CompletableFuture<List<DecodeEvent>> a = decode(request(1, 1000));
        awaitGauges(1, 0);
        CompletableFuture<List<DecodeEvent>> b = decode(request(2, 1000)); // joins a at its next step
        awaitGauges(2, 0);
        CompletableFuture<List<DecodeEvent>> c = decode(request(3, 20)); // 6 rows > 4: waits
        awaitGauges(2, 1);
        ExecutionException failed = assertThrows(ExecutionException.class,
                () -> decode(request(4, 20)).get(60, TimeUnit.SECONDS), "a fourth call with the queue full");
        StatusRuntimeException refused = (StatusRuntimeException) failed.getCause();
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode(), refused.getStatus().toString());
        assertTrue(refused.getStatus().getDescription().contains("at capacity"), refused.getStatus().getDescription());
        for (CompletableFuture<List<DecodeEvent>> f : List.of(a, b, c)) {
            List<DecodeEvent> events = f.get(120, TimeUnit.SECONDS);
            assertTrue(events.get(events.size() - 1).hasOutput(), "the queued and running calls finish");
        }
        String m = metrics();
        String rows = "unclip_scheduler_rows_per_call";
        double calls = value(m, rows + "_count{scheduler=\"decoder\"}");
        double atMostTwo = value(m, rows + "_bucket{scheduler=\"decoder\",le=\"2.0\"}");
        double atMostFour = value(m, rows + "_bucket{scheduler=\"decoder\",le=\"4.0\"}");
        assertTrue(calls > 0 && atMostTwo >= 0, "rows per call as a histogram with buckets:\n" + m);
        assertTrue(calls - atMostTwo > 100, "the two long calls shared model calls (4 rows): "
                + (calls - atMostTwo) + " of " + calls);
        assertEquals(calls, atMostFour, "never more rows than max-active-rows");
        assertTrue(value(m, "unclip_scheduler_requests_refused_total{scheduler=\"decoder\"}") >= 1, m);
        assertTrue(m.contains("unclip_scheduler_queue_wait_seconds_bucket{scheduler=\"decoder\",le="), m);
    }
}
