package io.unclip.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.unclip.api.v1.CancelRequest;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GetJobRequest;
import io.unclip.api.v1.ImageServiceGrpc;
import io.unclip.api.v1.JobEvent;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.SamplerParams;
import io.unclip.api.v1.StageName;
import io.unclip.deploy.LocalStack;
import io.unclip.deploy.StackOptions;
import io.unclip.deploy.StackStatus;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.PriorStage;
import io.unclip.kafka.testkit.TopicProbe;

/**
 * The whole distributed pipeline as separate processes: the local stack (a Kafka broker process,
 * text encoder, prior, two decoders, two upsamplers, captioner and gateway JVMs) on the engine's
 * tiny bundle, driven over gRPC and Kafka.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DistributedStackTest {
    static final Duration WAIT = Duration.ofSeconds(120);
    static final String PROMPT = "a red circle at the top left";
    static final int PARTITIONS = 4;
    static final ObjectMapper JSON = new ObjectMapper();

    Path root = Path.of(System.getProperty("unclip.root", "..")).toAbsolutePath().normalize();
    Path bundle = Path.of(System.getProperty("unclip.test.bundle")).toAbsolutePath().normalize();
    Path state = root.resolve("it/target/stack");
    StackStatus stack;
    ManagedChannel channel;
    ImageServiceGrpc.ImageServiceBlockingStub images;
    TopicProbe kafka;

    @BeforeAll
    void up() throws Exception {
        LocalStack.down(state); // a stack left over by an interrupted run
        long t0 = System.nanoTime();
        stack = LocalStack.up(StackOptions.defaults(root).withStateDir(state).withModels(bundle)
                .withReplicas(Map.of("decoder", 2, "upsampler", 2)).withPorts(0, 0).withPartitions(PARTITIONS)
                .withJvmOptions(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")));
        System.out.printf("local stack up in %.1f s%n%s", (System.nanoTime() - t0) / 1e9, stack.describe());
        String[] gw = stack.gatewayAddress().split(":");
        channel = ManagedChannelBuilder.forAddress(gw[0], Integer.parseInt(gw[1])).usePlaintext()
                .maxInboundMessageSize(32 * 1024 * 1024).build();
        images = ImageServiceGrpc.newBlockingStub(channel);
        kafka = new TopicProbe(stack.bootstrapServers(), "unclip.results", "unclip.events");
    }

    @AfterAll
    void down() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        LocalStack.down(state);
    }

    static GenerateRequest.Builder request() {
        return GenerateRequest.newBuilder().setPrompt(PROMPT).setSeed(7).setNumImages(2).setSize(128)
                .setPreviewInterval(5);
    }

    record Run(List<GenerateEvent> events, List<Long> nanos, long start) {
        long msTo(int i) {
            return (nanos.get(i) - start) / 1_000_000;
        }
    }

    Run generate(GenerateRequest r) {
        List<GenerateEvent> events = new ArrayList<>();
        List<Long> at = new ArrayList<>();
        long start = System.nanoTime();
        images.withDeadlineAfter(WAIT.toSeconds(), TimeUnit.SECONDS).generate(r).forEachRemaining(e -> {
            events.add(e);
            at.add(System.nanoTime());
        });
        return new Run(events, at, start);
    }

    @Test
    @Order(1)
    void generateStreamsEveryStageAndMatchesTheEmbeddedCascade() throws Exception {
        generate(request().setSeed(1).build()); // warm-up: first calls load code paths in every JVM
        Run run = generate(request().build());
        List<GenerateEvent> events = run.events();
        assertTrue(events.get(0).hasAccepted());
        assertEquals(List.of(StageName.TEXT_ENCODER, StageName.PRIOR, StageName.DECODER, StageName.UPSAMPLER,
                StageName.UPSAMPLER), events.get(0).getAccepted().getPlanList());
        List<String> stages = events.stream().filter(e -> e.hasStageStarted() || e.hasStageFinished())
                .map(e -> e.hasStageStarted() ? "start " + e.getStageStarted().getStage() + e.getStageStarted().getCascadeStep()
                        : "finish " + e.getStageFinished().getStage() + e.getStageFinished().getCascadeStep())
                .toList();
        assertEquals(List.of("start TEXT_ENCODER0", "finish TEXT_ENCODER0", "start PRIOR0", "finish PRIOR0",
                "start DECODER0", "finish DECODER0", "start UPSAMPLER0", "finish UPSAMPLER0", "start UPSAMPLER1",
                "finish UPSAMPLER1"), stages);
        GenerateEvent last = events.get(events.size() - 1);
        assertTrue(last.hasResult(), last.toString());
        assertEquals(2, last.getResult().getImagesCount());

        try (Cascade cascade = Cascade.open(bundle, RuntimeOptions.defaults())) {
            GenerationResult embedded = cascade.generate(new GenerationRequest(PROMPT, 2, 7L, 128,
                    StageOverrides.none(), 0), null, null);
            assertSameImages(embedded, last.getResult());
        }

        int firstPreview = -1;
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).hasProgress() && events.get(i).getProgress().hasPreviewPng()) {
                firstPreview = i;
                break;
            }
        }
        assertTrue(firstPreview > 0, "previews stream");
        long modelMs = last.getResult().getTimingsList().stream().mapToLong(t -> t.getWallMs()).sum();
        long queueMs = last.getResult().getTimingsList().stream().mapToLong(t -> t.getQueueMs()).sum();
        last.getResult().getTimingsList().forEach(t -> System.out.printf("  %s %d: %d ms in the topic, %d ms run"
                + " (%d ms in ONNX Runtime, %d steps)%n", t.getStage(), t.getCascadeStep(), t.getQueueMs(), t.getWallMs(),
                t.getModelMs(), t.getSteps()));
        System.out.printf("generate (2 images, 128 px, tiny bundle): %d ms end to end, first preview at %d ms,"
                        + " %d events; stage runs %d ms, time in topics %d ms over %d hops%n",
                run.msTo(events.size() - 1), run.msTo(firstPreview), events.size(), modelMs, queueMs,
                last.getResult().getTimingsCount());
        assertEquals(JobState.SUCCEEDED, images.getJob(GetJobRequest.newBuilder()
                .setJobId(events.get(0).getAccepted().getJobId()).build()).getState());

        // steadier figures: a few more jobs (replicas warm), medians
        List<Long> e2e = new ArrayList<>();
        List<Long> preview = new ArrayList<>();
        List<Long> queue = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            Run r = generate(request().setSeed(100 + k).build());
            e2e.add(r.msTo(r.events().size() - 1));
            for (int i = 0; i < r.events().size(); i++) {
                if (r.events().get(i).hasProgress() && r.events().get(i).getProgress().hasPreviewPng()) {
                    preview.add(r.msTo(i));
                    break;
                }
            }
            GenerateEvent end = r.events().get(r.events().size() - 1);
            queue.add(end.getResult().getTimingsList().stream().mapToLong(t -> t.getQueueMs()).sum()
                    / end.getResult().getTimingsCount());
        }
        System.out.printf("median of 4 more jobs: %d ms end to end, first preview at %d ms, %d ms per hop in the topic%n",
                median(e2e), median(preview), median(queue));
    }

    /** A PNG from its first IDAT chunk to the end: the encoded pixels. */
    static byte[] fromIdat(byte[] png) {
        int i = 8;
        while (i + 8 <= png.length) {
            int n = java.nio.ByteBuffer.wrap(png, i, 4).getInt();
            if (new String(png, i + 4, 4, StandardCharsets.US_ASCII).equals("IDAT")) {
                return java.util.Arrays.copyOfRange(png, i, png.length);
            }
            i += 12 + n;
        }
        throw new AssertionError("no IDAT chunk");
    }

    /** Every image of a distributed result is the embedded cascade's, with the same parameters text. */
    static void assertSameImages(GenerationResult embedded, io.unclip.api.v1.GenerateResult distributed)
            throws Exception {
        PngCodec png = PngCodec.withDefaultLimits();
        assertEquals(embedded.images().dim(0), distributed.getImagesCount());
        for (int i = 0; i < distributed.getImagesCount(); i++) {
            byte[] expected = png.encode(embedded.images(), i, embedded.parameters().pngText(i));
            byte[] actual = distributed.getImages(i).getImage().getPng().toByteArray();
            // The image data (IDAT onwards) byte for byte. The text chunks are compared as text: the engine
            // writes "bundle": {name, version} from a Map.of, whose order differs from JVM to JVM.
            assertArrayEquals(fromIdat(expected), fromIdat(actual), "image " + i + ": the embedded cascade's pixels");
            var e = png.decode(expected).text();
            var a = png.decode(actual).text();
            assertEquals(e.keySet(), a.keySet());
            for (String k : e.keySet()) {
                if (k.equals("parameters")) {
                    assertEquals(JSON.readTree(e.get(k)), JSON.readTree(a.get(k)));
                } else {
                    assertEquals(e.get(k), a.get(k), k);
                }
            }
        }
    }

    /** A 40x40 test picture: a coloured square on a gradient, different per {@code k}. */
    static byte[] picture(int k) {
        float[] v = new float[3 * 40 * 40];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 40; y++) {
                for (int x = 0; x < 40; x++) {
                    boolean in = x > 8 + 10 * k && x < 24 + 10 * k && y > 12 && y < 28;
                    v[(c * 40 + y) * 40 + x] = in ? (c == k ? 0.9f : -0.8f) : (x + y) / 80f - 0.5f;
                }
            }
        }
        return PngCodec.withDefaultLimits().encode(io.unclip.engine.tensor.Tensor.of(v, 1, 3, 40, 40), 0, Map.of());
    }

    GenerateEvent lastEvent(java.util.Iterator<GenerateEvent> it, List<StageName> plan) {
        GenerateEvent e = it.next();
        assertEquals(plan, e.getAccepted().getPlanList());
        while (it.hasNext()) {
            e = it.next();
        }
        assertTrue(e.hasResult(), e.toString());
        return e;
    }

    @Test
    @Order(2)
    void variationsAndInterpolationsMatchTheEmbeddedCascade() throws Exception {
        byte[] a = picture(0);
        byte[] b = picture(1);
        var stub = images.withDeadlineAfter(WAIT.toSeconds(), TimeUnit.SECONDS);
        GenerateEvent variations = lastEvent(stub.variations(io.unclip.api.v1.VariationsRequest.newBuilder()
                .setImage(com.google.protobuf.ByteString.copyFrom(a)).setNumImages(2).setSeed(5).setSize(128)
                .setPrompt(PROMPT).setPreviewInterval(5).build()), List.of(StageName.TEXT_ENCODER,
                StageName.DECODER, StageName.UPSAMPLER, StageName.UPSAMPLER));
        GenerateEvent frames = lastEvent(stub.interpolate(io.unclip.api.v1.InterpolateRequest.newBuilder()
                .setImageA(com.google.protobuf.ByteString.copyFrom(a)).setImageB(com.google.protobuf.ByteString.copyFrom(b))
                .setFrames(3).setSeed(9).setSize(32).build()), List.of(StageName.TEXT_ENCODER, StageName.DECODER,
                StageName.UPSAMPLER));
        PngCodec png = PngCodec.withDefaultLimits();
        try (Cascade cascade = Cascade.open(bundle, RuntimeOptions.defaults())) {
            assertSameImages(cascade.variations(new io.unclip.engine.pipeline.VariationsRequest(png.decode(a).pixels(),
                    2, 5L, 128, StageOverrides.none(), PROMPT, 0), null, null), variations.getResult());
            assertSameImages(cascade.interpolate(io.unclip.engine.pipeline.InterpolationRequest.between(
                    png.decode(a).pixels(), png.decode(b).pixels(), 3).withSeed(9L).withSize(32), null, null),
                    frames.getResult());
        }
        var towards = assertThrows(io.grpc.StatusRuntimeException.class, () -> stub.interpolate(
                io.unclip.api.v1.InterpolateRequest.newBuilder().setImageA(com.google.protobuf.ByteString.copyFrom(a))
                        .setTowardsPrompt("a blue square").build()).next());
        assertEquals(io.grpc.Status.Code.UNIMPLEMENTED, towards.getStatus().getCode());
    }

    static long median(List<Long> v) {
        List<Long> s = new ArrayList<>(v);
        s.sort(null);
        return s.get(s.size() / 2);
    }

    @Test
    @Order(2)
    void captionsGoThroughTheGatewayAndThroughKafka() throws Exception {
        byte[] png = PngCodec.withDefaultLimits().encode(io.unclip.engine.tensor.Tensor.zeros(1, 3, 32, 32), 0, Map.of());
        List<io.unclip.api.v1.CaptionToken> tokens = new ArrayList<>();
        images.withDeadlineAfter(WAIT.toSeconds(), TimeUnit.SECONDS).caption(io.unclip.api.v1.CaptionRequest.newBuilder()
                .setImage(com.google.protobuf.ByteString.copyFrom(png)).build()).forEachRemaining(tokens::add);
        assertTrue(tokens.get(tokens.size() - 1).getLast());

        // the same image as a batch caption job: routed by the jobs bridge to the captioner's worker
        String job = "{\"job_id\": \"caption-1\", \"type\": \"caption\", \"image\": \""
                + java.util.Base64.getEncoder().encodeToString(png) + "\"}";
        kafka.send("unclip.jobs", "caption-1", job.getBytes(StandardCharsets.UTF_8));
        JsonNode r = JSON.readTree(kafka.first("unclip.results", "caption-1", WAIT).value());
        assertEquals("SUCCEEDED", r.get("status").asText(), r.toString());
        assertEquals(tokens.get(tokens.size() - 1).getCaption(), r.get("caption").asText());
        assertEquals("CAPTIONER", r.get("timings").get(0).get("stage").asText());
        assertFalse(r.has("seed"), "a caption job has no seed: " + r);

        // metrics of a stage worker
        var metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://localhost:" + stack.process("prior-1").orElseThrow().port() + "/q/metrics"))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        for (String m : List.of("unclip_stage_latency_seconds", "unclip_stage_steps_per_second", "unclip_stage_batch_size",
                "unclip_worker_records_total", "unclip_worker_consumer_lag")) {
            assertTrue(metrics.contains(m), m);
        }
    }

    /** Job ids whose records land on every partition (Kafka's default partitioner: murmur2 of the key). */
    static List<String> idsOnEveryPartition(String prefix) {
        List<String> ids = new ArrayList<>();
        Set<Integer> covered = new HashSet<>();
        for (int i = 0; covered.size() < PARTITIONS; i++) {
            String id = prefix + i;
            int p = Utils.toPositive(Utils.murmur2(id.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
            if (covered.add(p)) {
                ids.add(id);
            }
        }
        return ids;
    }

    /**
     * {@code unclip load --target}: the CLI's load generator against the gateway with two decoder
     * replicas; every request comes back once, with the embedded cascade's image, and the services'
     * rows per call are read from their metrics.
     */
    @Test
    @Order(3)
    void loadThroughTheGatewayLosesNothingAndMatchesTheEmbeddedCascade() throws Exception {
        Path dir = Files.createTempDirectory("unclip-load");
        List<String> prompts = List.of("a red circle", "a blue square at the top left", "a green triangle");
        Files.write(dir.resolve("prompts.jsonl"), prompts.stream().map(p -> "{\"prompt\": \"" + p + "\"}").toList());
        int n = 6;
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                root.resolve("cli/target/unclip.jar").toString(), "load", "--target", stack.gatewayAddress(),
                "--requests", "" + n, "--concurrency", "3", "--size", "32", "--seed", "100", "--warmup", "0",
                "--prompts", dir.resolve("prompts.jsonl").toString(), "--out-dir", dir.resolve("out").toString(),
                "--state-dir", state.toString(), "--json").directory(dir.toFile()).redirectError(dir.resolve("err.txt").toFile())
                .redirectOutput(dir.resolve("out.txt").toFile()).start();
        assertTrue(p.waitFor(WAIT.toSeconds() * 2, TimeUnit.SECONDS), "load finished");
        String out = Files.readString(dir.resolve("out.txt"));
        assertEquals(0, p.exitValue(), out + Files.readString(dir.resolve("err.txt")));
        JsonNode report = null;
        for (String line : out.split("\n")) {
            if (line.contains("\"event\":\"load\"")) {
                report = JSON.readTree(line);
            }
        }
        assertNotNull(report, out);
        assertEquals(n, report.get("completed").asInt(), out);
        assertEquals(0, report.get("failed").asInt(), out);
        assertTrue(report.get("mean_batch_rows").has("decoder"), "rows per call from the services: " + out);
        PngCodec png = PngCodec.withDefaultLimits();
        try (Cascade cascade = Cascade.open(bundle, RuntimeOptions.defaults())) {
            for (int i = 0; i < n; i++) {
                GenerationResult embedded = cascade.generate(new GenerationRequest(prompts.get(i % prompts.size()),
                        1, 100L + i, 32, StageOverrides.none(), 0), null, null);
                byte[] expected = png.encode(embedded.images(), 0, embedded.parameters().pngText(0));
                assertArrayEquals(fromIdat(expected), fromIdat(Files.readAllBytes(dir.resolve("out/" + i + ".png"))),
                        "request " + i);
            }
        }
    }

    @Test
    @Order(3)
    void jsonBatchJobsEndAsJsonResultsAndBothDecoderReplicasTakeWork() throws Exception {
        List<String> ids = idsOnEveryPartition("batch-");
        kafka.send("unclip.jobs", "batch-bad", "{\"job_id\": \"batch-bad\", \"prompt\": ".getBytes(StandardCharsets.UTF_8));
        for (String id : ids) {
            String job = "{\"job_id\": \"" + id + "\", \"prompt\": \"" + PROMPT + "\", \"seed\": 1, \"num_images\": 1,"
                    + " \"size\": 32, \"decoder\": {\"steps\": 10}, \"note\": \"unknown fields are ignored\"}";
            kafka.send("unclip.jobs", id, job.getBytes(StandardCharsets.UTF_8));
        }
        for (String id : ids) {
            JsonNode r = JSON.readTree(kafka.first("unclip.results", id, WAIT).value());
            assertEquals("SUCCEEDED", r.get("status").asText(), r.toString());
            Path file = Path.of(r.get("images").get(0).get("path").asText());
            assertTrue(file.startsWith(state.resolve("results")), file.toString());
            assertEquals(32, PngCodec.withDefaultLimits().read(file).width());
            assertEquals(10, r.get("parameters").get("decoder").get("steps").asInt());
            assertEquals(4, r.get("timings").size());
        }
        JsonNode bad = JSON.readTree(kafka.first("unclip.results", "batch-bad", WAIT).value());
        assertEquals("FAILED", bad.get("status").asText());
        assertTrue(bad.get("error").get("message").asText().startsWith("malformed JSON job"), bad.toString());

        Set<String> decoders = new HashSet<>();
        for (String id : ids) {
            for (ConsumerRecord<String, byte[]> rec : kafka.settle(TopicProbe.on("unclip.events", id), Duration.ZERO)) {
                JobEvent e = JobEvent.parseFrom(rec.value());
                if (e.getEvent().hasStageStarted() && e.getStage() == StageName.DECODER) {
                    decoders.add(e.getProducer());
                }
            }
        }
        assertEquals(Set.of("decoder-1", "decoder-2"), decoders, "both replicas decoded");
    }

    /** Waits on a stream until an event of {@code stage} (and cascade step) starts; returns what came before. */
    static void until(Iterator<GenerateEvent> it, StageName stage, int step) {
        while (true) {
            GenerateEvent e = it.next();
            if (e.hasStageStarted() && e.getStageStarted().getStage() == stage
                    && e.getStageStarted().getCascadeStep() == step) {
                return;
            }
            if (e.hasResult() || e.hasFailed() || e.hasCancelled()) {
                throw new AssertionError("the job ended before " + stage + " " + step + ": " + e);
            }
        }
    }

    /** A job whose last upsampler step samples 1000 steps: seconds of work to cancel or crash in. */
    static GenerateRequest slow(long seed) {
        return GenerateRequest.newBuilder().setPrompt(PROMPT).setSeed(seed).setSize(128).setPreviewInterval(0)
                .setUpsampler(SamplerParams.newBuilder().setSteps(1000)).build();
    }

    @Test
    @Order(4)
    void cancelStopsTheRunningStage() throws Exception {
        Iterator<GenerateEvent> it = images.withDeadlineAfter(WAIT.toSeconds(), TimeUnit.SECONDS).generate(slow(11));
        String jobId = it.next().getAccepted().getJobId();
        until(it, StageName.UPSAMPLER, 1);
        Thread.sleep(300);
        var reply = images.cancel(CancelRequest.newBuilder().setJobId(jobId).build());
        assertTrue(reply.getCancelled());
        List<GenerateEvent> rest = new ArrayList<>();
        it.forEachRemaining(rest::add);
        assertTrue(rest.get(rest.size() - 1).hasCancelled(), rest.toString());

        // the upsampler stops at its next step: its progress stops well short of 1000 and it writes no result
        List<ConsumerRecord<String, byte[]>> evs = kafka.settle(TopicProbe.on("unclip.events", jobId), Duration.ofSeconds(2));
        int lastStep = 0;
        for (ConsumerRecord<String, byte[]> rec : evs) {
            JobEvent e = JobEvent.parseFrom(rec.value());
            if (e.getEvent().hasProgress() && e.getStage() == StageName.UPSAMPLER && e.getCascadeStep() == 1) {
                lastStep = Math.max(lastStep, e.getEvent().getProgress().getStep());
            }
            assertFalse(e.getEvent().hasStageFinished() && e.getStage() == StageName.UPSAMPLER && e.getCascadeStep() == 1,
                    "the cancelled stage did not finish");
        }
        assertTrue(lastStep < 1000, "stopped at step " + lastStep);
        List<ConsumerRecord<String, byte[]>> results = kafka.settle(TopicProbe.on("unclip.results", jobId), Duration.ZERO);
        assertEquals(1, results.size(), "one result: the gateway's CANCELLED");
        assertEquals(JobState.CANCELLED, images.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getState());
        System.out.printf("cancel: the upsampler stopped at step %d of 1000 (progress seen by the gateway)%n", lastStep);
    }

    @Test
    @Order(5)
    void aWorkerKilledMidJobLosesNothing() throws Exception {
        Iterator<GenerateEvent> it = images.withDeadlineAfter(WAIT.toSeconds(), TimeUnit.SECONDS).generate(slow(12));
        String jobId = it.next().getAccepted().getJobId();
        until(it, StageName.UPSAMPLER, 1);
        Thread.sleep(300);
        String running = JobEvent.parseFrom(kafka.await(TopicProbe.on("unclip.events", jobId).and(rec -> {
            try {
                JobEvent e = JobEvent.parseFrom(rec.value());
                return e.getEvent().hasStageStarted() && e.getStage() == StageName.UPSAMPLER && e.getCascadeStep() == 1;
            } catch (Exception ex) {
                return false;
            }
        }), 1, WAIT).get(0).value()).getProducer();
        assertTrue(running != null && running.startsWith("upsampler-"), "the upsampler running it: " + running);
        long killed = System.nanoTime();
        LocalStack.kill(state, running);

        List<GenerateEvent> rest = new ArrayList<>();
        it.forEachRemaining(rest::add);
        GenerateEvent last = rest.get(rest.size() - 1);
        assertTrue(last.hasResult(), last.toString());
        assertEquals(1, rest.stream().filter(e -> e.hasResult() || e.hasFailed() || e.hasCancelled()).count());
        List<String> restarts = rest.stream().filter(e -> e.hasStageStarted()
                && e.getStageStarted().getStage() == StageName.UPSAMPLER).map(e -> "step "
                + e.getStageStarted().getCascadeStep()).toList();
        assertEquals(List.of("step 1"), restarts, "the other replica ran the step again");
        assertEquals(1, kafka.settle(TopicProbe.on("unclip.results", jobId), Duration.ofSeconds(2)).size(),
                "exactly one result record");
        System.out.printf("killed %s mid-step: the job finished on the other replica %.1f s later%n", running,
                (System.nanoTime() - killed) / 1e9);
    }

    @Test
    @Order(6)
    void aRestartedGatewayStillAnswersGetJob() throws Exception {
        Run done = generate(request().setSeed(21).build());
        String finished = done.events().get(0).getAccepted().getJobId();
        GenerateRequest running = slow(22).toBuilder().setUpsampler(SamplerParams.newBuilder().setSteps(150)).build();
        io.grpc.Context.CancellableContext call = io.grpc.Context.current().withCancellation();
        String inFlight = call.call(() -> {
            Iterator<GenerateEvent> it = images.withDeadlineAfter(WAIT.toSeconds(), TimeUnit.SECONDS).generate(running);
            return it.next().getAccepted().getJobId();
        });
        long t0 = System.nanoTime();
        io.unclip.deploy.StackRestart.restart(state, "gateway-1");
        call.cancel(null); // the old stream died with the old gateway
        System.out.printf("gateway-1 restarted in %.1f s%n", (System.nanoTime() - t0) / 1e9);

        // ready means the last hour of results is read: the finished job is known at once
        var status = images.getJob(GetJobRequest.newBuilder().setJobId(finished).build());
        assertEquals(JobState.SUCCEEDED, status.getState());
        assertEquals(2, status.getResult().getImagesCount());
        // the job that was running: from its next event, or its result
        long deadline = System.nanoTime() + WAIT.toNanos();
        JobState last = null;
        while (System.nanoTime() < deadline && last != JobState.SUCCEEDED) {
            try {
                last = images.getJob(GetJobRequest.newBuilder().setJobId(inFlight).build()).getState();
            } catch (io.grpc.StatusRuntimeException e) {
                assertEquals(io.grpc.Status.Code.NOT_FOUND, e.getStatus().getCode(), e.toString());
            }
            Thread.sleep(200);
        }
        assertEquals(JobState.SUCCEEDED, last, "the running job's end is seen by the new gateway");
    }
}
