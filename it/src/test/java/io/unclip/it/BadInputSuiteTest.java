package io.unclip.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.unclip.api.v1.CancelRequest;
import io.unclip.api.v1.CaptionImageRequest;
import io.unclip.api.v1.CaptionRequest;
import io.unclip.api.v1.CaptionerServiceGrpc;
import io.unclip.api.v1.ClipRange;
import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.DecodeEvent;
import io.unclip.api.v1.DecodeRequest;
import io.unclip.api.v1.DecoderServiceGrpc;
import io.unclip.api.v1.EncodeReply;
import io.unclip.api.v1.EncodeRequest;
import io.unclip.api.v1.FloatTensor;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GetJobRequest;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.ImageServiceGrpc;
import io.unclip.api.v1.InterpolateRequest;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.PriorEvent;
import io.unclip.api.v1.PriorRequest;
import io.unclip.api.v1.PriorServiceGrpc;
import io.unclip.api.v1.Sampler;
import io.unclip.api.v1.SamplerParams;
import io.unclip.api.v1.TextEncoderServiceGrpc;
import io.unclip.api.v1.UpsampleRequest;
import io.unclip.api.v1.UpsamplerServiceGrpc;
import io.unclip.api.v1.VariationsRequest;
import io.unclip.deploy.LocalStack;
import io.unclip.deploy.StackOptions;
import io.unclip.deploy.StackStatus;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.tensor.Tensor;
import io.unclip.kafka.testkit.RawGrpc;
import io.unclip.kafka.testkit.TestImages;
import io.unclip.kafka.testkit.TestTensors;
import io.unclip.kafka.testkit.TopicProbe;

/**
 * Hostile and malformed input at every door of a running stack (the local stack on the tiny
 * bundle: a broker process and one JVM per service): the public gateway, each stage service
 * called directly, JSON and protobuf records on unclip.jobs, and the {@code unclip} command.
 *
 * <p>Every case must get its clear error (gRPC INVALID_ARGUMENT with a message that names the
 * field and leaks no internals / exactly one dead letter and one FAILED result / a stderr line
 * and exit 2), and a good request through the same door right after it must be served: nothing
 * crashed, hung or got stuck behind the bad input.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputSuiteTest {
    static final Duration WAIT = Duration.ofSeconds(90);
    static final String PROMPT = "a red circle at the top left";
    static final int PARTITIONS = 2;
    static final ObjectMapper JSON = new ObjectMapper();

    final Path root = Path.of(System.getProperty("unclip.root", "..")).toAbsolutePath().normalize();
    final Path bundle = Path.of(System.getProperty("unclip.test.bundle")).toAbsolutePath().normalize();
    final Path state = root.resolve("it/target/bad-input-stack");
    StackStatus stack;
    ManagedChannel gateway;
    final Map<String, ManagedChannel> stages = new java.util.HashMap<>();
    TopicProbe kafka;
    KafkaProducer<String, byte[]> producer;
    Path tmp;
    /** A text conditioning and image embeddings the stage services accept (from the stack itself). */
    EncodeReply encoded;
    FloatTensor embeds;
    int good;

    @BeforeAll
    void up() throws Exception {
        LocalStack.down(state);
        tmp = Files.createTempDirectory("unclip-bad-input");
        stack = LocalStack.up(StackOptions.defaults(root).withStateDir(state).withModels(bundle)
                .withPorts(0, 0).withPartitions(PARTITIONS)
                .withJvmOptions(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")));
        gateway = channel(stack.gatewayAddress());
        for (String s : List.of("text-encoder-1", "prior-1", "decoder-1", "upsampler-1", "captioner-1")) {
            stages.put(s, channel("localhost:" + stack.process(s).orElseThrow().port()));
        }
        kafka = new TopicProbe(stack.bootstrapServers(), "unclip.results", "unclip.dead-letter");
        Properties p = new Properties();
        p.put("bootstrap.servers", stack.bootstrapServers());
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("linger.ms", "0");
        producer = new KafkaProducer<>(p);

        encoded = textEncoder().encode(EncodeRequest.newBuilder().addPrompts(PROMPT).setIncludeUnconditional(true).build());
        PriorEvent last = null;
        for (var it = prior().sample(PriorRequest.newBuilder().setText(encoded.getEncodings(0))
                .setUnconditional(encoded.getUnconditional()).setNumImages(1).setSeed(1).build()); it.hasNext(); ) {
            last = it.next();
        }
        embeds = last.getImageEmbeds();
    }

    @AfterAll
    void down() throws Exception {
        if (producer != null) {
            producer.close();
        }
        if (kafka != null) {
            kafka.close();
        }
        for (ManagedChannel c : stages.values()) {
            c.shutdownNow();
        }
        if (gateway != null) {
            gateway.shutdownNow();
        }
        LocalStack.down(state);
    }

    static ManagedChannel channel(String hostPort) {
        String[] hp = hostPort.split(":");
        return ManagedChannelBuilder.forAddress(hp[0], Integer.parseInt(hp[1])).usePlaintext()
                .maxInboundMessageSize(32 * 1024 * 1024).build();
    }

    ImageServiceGrpc.ImageServiceBlockingStub images() {
        return ImageServiceGrpc.newBlockingStub(gateway).withDeadlineAfter(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    TextEncoderServiceGrpc.TextEncoderServiceBlockingStub textEncoder() {
        return TextEncoderServiceGrpc.newBlockingStub(stages.get("text-encoder-1")).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    PriorServiceGrpc.PriorServiceBlockingStub prior() {
        return PriorServiceGrpc.newBlockingStub(stages.get("prior-1")).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    DecoderServiceGrpc.DecoderServiceBlockingStub decoder() {
        return DecoderServiceGrpc.newBlockingStub(stages.get("decoder-1")).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    UpsamplerServiceGrpc.UpsamplerServiceBlockingStub upsampler() {
        return UpsamplerServiceGrpc.newBlockingStub(stages.get("upsampler-1")).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    CaptionerServiceGrpc.CaptionerServiceBlockingStub captioner() {
        return CaptionerServiceGrpc.newBlockingStub(stages.get("captioner-1")).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    // ---------------------------------------------------------------------------------------
    // inputs

    static byte[] png(int side) {
        return PngCodec.withDefaultLimits().encode(Tensor.zeros(1, 3, side, side), 0, Map.of());
    }

    static byte[] truncatedPng() {
        byte[] p = DistributedStackTest.picture(0);
        return Arrays.copyOf(p, p.length / 2);
    }

    /** A PNG whose header says 100 000 x 100 000 (a decompression bomb if anyone believed it). */
    static byte[] pngBomb() {
        return TestImages.pngHeaderClaiming(100_000, 100_000).toByteArray();
    }

    static byte[] garbageJpeg() {
        byte[] g = new byte[600];
        new java.util.Random(3).nextBytes(g);
        g[0] = (byte) 0xFF;
        g[1] = (byte) 0xD8;
        g[2] = (byte) 0xFF;
        return g;
    }

    FloatTensor blobRef(String uri, String sha, long... shape) {
        FloatTensor.Builder b = FloatTensor.newBuilder().setUri(uri).setSha256(sha);
        for (long d : shape) {
            b.addShape(d);
        }
        return b.build();
    }

    static GenerateRequest.Builder generate() {
        return GenerateRequest.newBuilder().setPrompt(PROMPT).setSeed(7).setNumImages(1).setSize(32);
    }

    // ---------------------------------------------------------------------------------------
    // gRPC: the bad call fails with INVALID_ARGUMENT; the good call after it is served

    /** A bad call: it returns the stream's last event or the unary reply, or throws. */
    @FunctionalInterface
    interface Call {
        Object run() throws Exception;
    }

    /**
     * The clear error a bad call must end with: INVALID_ARGUMENT with a message naming what is
     * wrong and nothing of the server's internals, or (for what only a stage can check, behind
     * the gateway) a terminal failed event with INVALID_REQUEST. Returns the message.
     */
    static String invalid(Call call) throws Exception {
        Object last;
        try {
            last = call.run();
        } catch (StatusRuntimeException e) {
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
            return clear(e.getStatus().getDescription());
        }
        if (last instanceof GenerateEvent g && g.hasFailed()) {
            assertEquals(io.unclip.api.v1.FailureCode.INVALID_REQUEST, g.getFailed().getCode(), g.toString());
            return clear(g.getFailed().getMessage());
        }
        throw new AssertionError("accepted: " + last);
    }

    static String clear(String message) {
        assertTrue(message != null && !message.isBlank(), "a message");
        assertFalse(message.matches("(?s).*(Exception|\\bat io\\.|java\\.|\\.java:).*"), "no internals in: " + message);
        return message;
    }

    /** The last element of a stream. */
    static Object drain(java.util.Iterator<?> it) {
        Object last = null;
        while (it.hasNext()) {
            last = it.next();
        }
        return last;
    }

    void gatewayServes() {
        GenerateEvent last = null;
        for (var it = images().generate(generate().setSeed(1000 + good++).build()); it.hasNext(); ) {
            last = it.next();
        }
        assertTrue(last != null && last.hasResult(), "the good job after it: " + last);
    }

    void decoderServes() {
        DecodeEvent last = null;
        for (var it = decoder().decode(DecodeRequest.newBuilder().setImageEmbeds(embeds).setText(encoded.getEncodings(0))
                .setUnconditional(encoded.getUnconditional()).setSeed(good++).setEncodePng(true).build()); it.hasNext(); ) {
            last = it.next();
        }
        assertTrue(last != null && last.hasOutput(), "the good decode after it: " + last);
    }

    DynamicTest grpc(String name, Call bad, Runnable goodAfter) {
        return DynamicTest.dynamicTest(name, () -> {
            invalid(bad);
            goodAfter.run();
        });
    }

    /** The gateway's public API. */
    @TestFactory
    Stream<DynamicTest> gateway() {
        Runnable ok = this::gatewayServes;
        List<DynamicTest> t = new ArrayList<>();
        t.add(grpc("empty prompt", () -> drain(images().generate(generate().setPrompt("").build())), ok));
        t.add(grpc("blank prompt", () -> drain(images().generate(generate().setPrompt("   ").build())), ok));
        t.add(grpc("prompt of 257 characters", () -> drain(images().generate(generate().setPrompt("a".repeat(257)).build())), ok));
        t.add(grpc("control character", () -> drain(images().generate(generate().setPrompt("a red\u0007circle").build())), ok));
        t.add(grpc("word outside the vocabulary", () -> drain(images().generate(generate().setPrompt("a zyzzyva").build())), ok));
        t.add(grpc("9 images", () -> drain(images().generate(generate().setNumImages(9).build())), ok));
        t.add(grpc("size 33", () -> drain(images().generate(generate().setSize(33).build())), ok));
        t.add(grpc("size 8192", () -> drain(images().generate(generate().setSize(8192).build())), ok));
        t.add(grpc("5000 decoder steps", () -> drain(images().generate(generate()
                .setDecoder(SamplerParams.newBuilder().setSteps(5000)).build())), ok));
        t.add(grpc("guidance 51", () -> drain(images().generate(generate()
                .setDecoder(SamplerParams.newBuilder().setGuidanceScale(51)).build())), ok));
        t.add(grpc("respacing \"abc\"", () -> drain(images().generate(generate()
                .setPrior(SamplerParams.newBuilder().setRespacing("abc")).build())), ok));
        t.add(grpc("eta with DDPM", () -> drain(images().generate(generate()
                .setDecoder(SamplerParams.newBuilder().setSampler(Sampler.DDPM).setEta(0.5f)).build())), ok));
        t.add(grpc("clip range upside down", () -> drain(images().generate(generate()
                .setDecoder(SamplerParams.newBuilder().setClipX0(ClipRange.newBuilder().setMin(1).setMax(-1))).build())), ok));
        t.add(grpc("idempotency key \"../x\"", () -> drain(images().generate(generate().setRequestId("../x").build())), ok));
        t.add(grpc("non-UTF-8 prompt", () -> raw(gateway, ImageServiceGrpc.getGenerateMethod(),
                generate().setPrompt("a red XX circle").build().toByteArray()), ok));
        t.add(grpc("variations of a truncated PNG", () -> drain(images().variations(VariationsRequest.newBuilder()
                .setImage(ByteString.copyFrom(truncatedPng())).setSeed(1).build())), ok));
        t.add(grpc("variations of a garbage JPEG", () -> drain(images().variations(VariationsRequest.newBuilder()
                .setImage(ByteString.copyFrom(garbageJpeg())).setSeed(1).build())), ok));
        t.add(grpc("variations of a PNG bomb", () -> drain(images().variations(VariationsRequest.newBuilder()
                .setImage(ByteString.copyFrom(pngBomb())).setSeed(1).build())), ok));
        t.add(grpc("caption of a truncated PNG", () -> drain(images().caption(CaptionRequest.newBuilder()
                .setImage(ByteString.copyFrom(truncatedPng())).build())), ok));
        t.add(grpc("interpolation of 100 frames", () -> drain(images().interpolate(InterpolateRequest.newBuilder()
                .setImageA(ByteString.copyFrom(png(32))).setImageB(ByteString.copyFrom(png(32))).setFrames(100).build())), ok));
        t.add(grpc("GetJob \"..\"", () -> images().getJob(GetJobRequest.newBuilder().setJobId("..").build()), ok));
        t.add(grpc("Cancel \"a/b\"", () -> images().cancel(CancelRequest.newBuilder().setJobId("a/b").build()), ok));
        return t.stream();
    }

    /** {@code message} sent as raw bytes with its "XX" made FF FE (not UTF-8); a status that is not OK is thrown. */
    static Object raw(ManagedChannel channel, MethodDescriptor<?, ?> method, byte[] message) throws Exception {
        Status s = RawGrpc.call(channel, method.getFullMethodName(), RawGrpc.breakUtf8(message, "XX"));
        if (!s.isOk()) {
            throw s.asRuntimeException();
        }
        return s;
    }

    /** The stage services, called directly (as a trusted-network neighbour or an attacker inside it would). */
    @TestFactory
    Stream<DynamicTest> stageServices() throws Exception {
        Runnable ok = this::decoderServes;
        Runnable encodes = () -> assertEquals(1, textEncoder().encode(EncodeRequest.newBuilder().addPrompts(PROMPT)
                .build()).getEncodingsCount());
        String zeros = "0".repeat(64);
        String passwdSha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(Path.of("/etc/passwd"))));
        Supplier<DecodeRequest.Builder> decode = () -> DecodeRequest.newBuilder().setText(encoded.getEncodings(0))
                .setUnconditional(encoded.getUnconditional()).setSeed(3);
        List<DynamicTest> t = new ArrayList<>();
        List<String> blobMessages = new ArrayList<>();
        for (String[] c : new String[][] {
                {"a blob outside the store: /etc/passwd", "file:///etc/passwd", zeros},
                {"a blob outside the store with its true digest", "file:///etc/passwd", passwdSha},
                {"a blob that does not exist", "file:///etc/no-such-file-here", zeros},
                {"a blob escaping the store with ..", stack.stateDir().resolve("blobs").toUri() + "../../../../../etc/passwd", zeros},
                {"an endless blob: /dev/zero", "file:///dev/zero", zeros},
                {"a blob of another scheme", "http://169.254.169.254/latest/meta-data", zeros}}) {
            t.add(DynamicTest.dynamicTest(c[0], () -> {
                String d = invalid(() -> drain(decoder().decode(decode.get()
                        .setImageEmbeds(blobRef(c[1], c[2], 1, 16)).build())));
                assertFalse(d.contains(passwdSha), "leaks the file's digest: " + d);
                assertFalse(d.contains("/etc"), "echoes the path: " + d);
                blobMessages.add(d);
                ok.run();
            }));
        }
        t.add(DynamicTest.dynamicTest("every refused blob gets the same answer (no existence oracle)", () ->
                assertEquals(1, blobMessages.stream().distinct().count(), blobMessages.toString())));
        t.add(grpc("embeddings of 1e30 (the output would be NaN)", () -> drain(decoder().decode(decode.get()
                .setImageEmbeds(TestTensors.filled(1e30f, 1, 16)).build())), ok));
        t.add(grpc("embeddings of the wrong width", () -> drain(decoder().decode(decode.get()
                .setImageEmbeds(TestTensors.filled(0.1f, 1, 17)).build())), ok));
        t.add(grpc("a NaN in the embeddings", () -> drain(decoder().decode(decode.get()
                .setImageEmbeds(TestTensors.filled(Float.NaN, 1, 16)).build())), ok));
        t.add(grpc("17 prompts in one Encode", () -> textEncoder().encode(EncodeRequest.newBuilder()
                .addAllPrompts(java.util.Collections.nCopies(17, PROMPT)).build()), encodes));
        t.add(grpc("non-UTF-8 prompt to the text encoder", () -> raw(stages.get("text-encoder-1"),
                TextEncoderServiceGrpc.getEncodeMethod(), EncodeRequest.newBuilder().addPrompts("a red XX circle").build()
                        .toByteArray()), encodes));
        t.add(grpc("prior asked for 9 images", () -> drain(prior().sample(PriorRequest.newBuilder()
                .setText(encoded.getEncodings(0)).setUnconditional(encoded.getUnconditional()).setNumImages(9).build())), ok));
        // the prior's gRPC door checks the unconditional against the model as its Kafka door does (StageCodec.text)
        t.add(grpc("prior given an unconditional of the wrong width", () -> drain(prior().sample(PriorRequest.newBuilder()
                .setText(encoded.getEncodings(0)).setUnconditional(encoded.getUnconditional().toBuilder()
                        .setTextEmbeds(TestTensors.filled(0.25f, 7))).build())), ok));
        t.add(grpc("upsampler given a 2000x2000 image", () -> drain(upsampler().upsample(UpsampleRequest.newBuilder()
                .setImage(ImageRef.newBuilder().setUri("file:///dev/zero").setSha256(zeros).setWidth(2000).setHeight(2000))
                .setSeed(1).build())), ok));
        t.add(grpc("captioner given a truncated PNG", () -> drain(captioner().caption(CaptionImageRequest.newBuilder()
                .setImage(ImageRef.newBuilder().setPng(ByteString.copyFrom(truncatedPng()))).build())), ok));
        return t.stream();
    }

    // ---------------------------------------------------------------------------------------
    // Kafka: one dead letter and one FAILED result per bad record; a good job behind it on the same partition

    static int partition(String key) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
    }

    /** @return the record's offset */
    long send(int partition, String key, byte[] value) throws Exception {
        return producer.send(new ProducerRecord<>("unclip.jobs", partition, key, value)).get(30, TimeUnit.SECONDS).offset();
    }

    static byte[] json(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String goodJob(String id) {
        return "{\"job_id\": \"" + id + "\", \"prompt\": \"" + PROMPT + "\", \"seed\": 1, \"size\": 32}";
    }

    List<JsonNode> results(String id, Duration settle) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : kafka.settle(TopicProbe.on("unclip.results", id), settle)) {
            out.add(result(r.value()));
        }
        return out;
    }

    /** A result record as JSON: JSON jobs get JSON results, protobuf ones JobResult (shown in its JSON mapping). */
    static JsonNode result(byte[] value) throws Exception {
        if (value.length > 0 && value[0] == '{') {
            return JSON.readTree(value);
        }
        io.unclip.api.v1.JobResult r = io.unclip.api.v1.JobResult.parseFrom(value);
        var node = JSON.createObjectNode().put("job_id", r.getJobId()).put("status", r.getStatus().name())
                .put("seed", r.getSeed());
        node.putObject("error").put("code", r.getError().getCode().name()).put("message", r.getError().getMessage());
        return node;
    }

    /** The dead letters of the record at unclip.jobs-{@code partition}@{@code offset}. */
    List<DeadLetter> deadLetters(int partition, long offset) throws Exception {
        List<DeadLetter> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : kafka.settle(rec -> rec.topic().equals("unclip.dead-letter"),
                Duration.ofMillis(300))) {
            DeadLetter dl = DeadLetter.parseFrom(r.value());
            if (dl.getTopic().equals("unclip.jobs") && dl.getPartition() == partition && dl.getOffset() == offset) {
                out.add(dl);
            }
        }
        return out;
    }

    /**
     * Sends a bad record, then a good job on the same partition; when the good one is done, the
     * bad one must have exactly one dead letter and {@code failedResults} FAILED results under
     * {@code resultId} (1 when its job id is known, else 0), and nothing else.
     */
    DynamicTest record(String name, String key, byte[] value, String resultId, String expectInMessage) {
        return DynamicTest.dynamicTest(name, () -> {
            int p = key == null ? 0 : partition(key);
            long offset = send(p, key, value);
            String goodId = "good-" + (good++);
            send(p, goodId, json(goodJob(goodId)));
            JsonNode ok = JSON.readTree(kafka.first("unclip.results", goodId, WAIT).value());
            assertEquals("SUCCEEDED", ok.get("status").asText(), "the good job behind it: " + ok);
            List<DeadLetter> dl = deadLetters(p, offset);
            assertEquals(1, dl.size(), "one dead letter: " + dl);
            if (resultId != null) {
                List<JsonNode> r = results(resultId, Duration.ofMillis(500));
                assertEquals(1, r.size(), "one result: " + r);
                assertEquals("FAILED", r.get(0).get("status").asText(), r.toString());
                String m = r.get(0).get("error").get("message").asText();
                assertTrue(m.contains(expectInMessage), "'" + expectInMessage + "' in: " + m);
            }
        });
    }

    @TestFactory
    Stream<DynamicTest> kafkaRecords() throws Exception {
        String b64 = Base64.getEncoder().encodeToString(truncatedPng());
        List<DynamicTest> t = new ArrayList<>();
        t.add(record("malformed JSON", "k-malformed", json("{\"job_id\": \"k-malformed\", \"prompt\": "),
                "k-malformed", "malformed JSON"));
        t.add(record("job id \"..\"", null, json("{\"job_id\": \"..\", \"prompt\": \"" + PROMPT + "\"}"), null, ""));
        t.add(record("job id \"../../tmp/x\" as key and body", "../../tmp/x",
                json("{\"job_id\": \"../../tmp/x\", \"prompt\": \"" + PROMPT + "\"}"), null, ""));
        t.add(record("size 33", "k-size", json("{\"job_id\": \"k-size\", \"prompt\": \"" + PROMPT + "\", \"size\": 33}"),
                "k-size", "size"));
        t.add(record("seed \"abc\"", "k-seed", json("{\"job_id\": \"k-seed\", \"prompt\": \"" + PROMPT
                + "\", \"seed\": \"abc\"}"), "k-seed", "seed"));
        t.add(record("a word outside the vocabulary", "k-vocab", json("{\"job_id\": \"k-vocab\", \"prompt\":"
                + " \"a zyzzyva\"}"), "k-vocab", "zyzzyva"));
        t.add(record("a caption job with a truncated PNG", "k-png", json("{\"job_id\": \"k-png\", \"type\": \"caption\","
                + " \"image\": \"" + b64 + "\"}"), "k-png", "image"));
        t.add(record("a key that differs from the body's job id", "k-key", json("{\"job_id\": \"k-body\", \"prompt\": \""
                + PROMPT + "\"}"), "k-body", "k-key"));
        t.add(record("protobuf garbage", "k-garbage", new byte[] {0x0A, 0x7F, 'a'}, "k-garbage",
                "JobRequest"));
        t.add(record("a protobuf job of 100 images", "k-proto", JobRequest.newBuilder().setJobId("k-proto")
                .setGenerate(generate().setNumImages(100)).build().toByteArray(), "k-proto", "num_images"));
        t.add(DynamicTest.dynamicTest("a duplicate job id with other content", () -> {
            String id = "k-dup";
            send(partition(id), id, json("{\"job_id\": \"k-dup\", \"prompt\": \"" + PROMPT + "\", \"seed\": 1, \"size\": 32}"));
            send(partition(id), id, json("{\"job_id\": \"k-dup\", \"prompt\": \"a blue square\", \"seed\": 2, \"size\": 32}"));
            String goodId = "good-" + (good++);
            send(partition(id), goodId, json(goodJob(goodId)));
            kafka.first("unclip.results", goodId, WAIT);
            List<JsonNode> r = results(id, Duration.ofSeconds(1));
            assertEquals(List.of("SUCCEEDED", "FAILED"), r.stream().map(n -> n.get("status").asText()).sorted(
                    java.util.Comparator.reverseOrder()).toList(), r.toString());
            JsonNode failed = r.stream().filter(n -> n.get("status").asText().equals("FAILED")).findFirst().orElseThrow();
            assertTrue(failed.get("error").get("message").asText().contains("k-dup"), failed.toString());
            JsonNode ok = r.stream().filter(n -> n.get("status").asText().equals("SUCCEEDED")).findFirst().orElseThrow();
            assertEquals(1, ok.get("seed").asInt(), "the first job's result stands: " + ok);
        }));
        t.add(DynamicTest.dynamicTest("the same job twice is one job", () -> {
            String id = "k-twice";
            send(partition(id), id, json(goodJob(id)));
            send(partition(id), id, json(goodJob(id)));
            String goodId = "good-" + (good++);
            send(partition(id), goodId, json(goodJob(goodId)));
            kafka.first("unclip.results", goodId, WAIT);
            List<JsonNode> r = results(id, Duration.ofSeconds(1));
            assertEquals(1, r.size(), r.toString());
            assertEquals("SUCCEEDED", r.get(0).get("status").asText());
        }));
        return t.stream();
    }

    // ---------------------------------------------------------------------------------------
    // the unclip command: one stderr line per bad input, exit 2, nothing sent

    record Cli(int exit, String out, String err) {
    }

    Cli unclip(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", root.resolve("cli/target/unclip.jar").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectOutput(tmp.resolve("out").toFile())
                .redirectError(tmp.resolve("err").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "unclip " + String.join(" ", args) + " ended");
        return new Cli(p.exitValue(), Files.readString(tmp.resolve("out")), Files.readString(tmp.resolve("err")));
    }

    Path file(String name, byte[] content) throws Exception {
        return Files.write(tmp.resolve(name), content);
    }

    DynamicTest cli(String name, String... args) {
        return DynamicTest.dynamicTest(name, () -> {
            Cli r = unclip(args);
            assertEquals(2, r.exit(), "exit 2 for bad input; stderr: " + r.err());
            assertTrue(r.err().startsWith("unclip: "), r.err());
            assertFalse(r.err().matches("(?s).*(Exception|\\bat io\\.).*"), "no stack trace: " + r.err());
            // and the good one right after it goes through
            String id = "cli-good-" + (good++);
            Cli ok = unclip("submit", file(id + ".jsonl", json(goodJob(id) + "\n")).toString(),
                    "--bootstrap", stack.bootstrapServers(), "--models", bundle.toString());
            assertEquals(0, ok.exit(), ok.err());
            assertEquals("SUCCEEDED", JSON.readTree(kafka.first("unclip.results", id, WAIT).value()).get("status").asText());
        });
    }

    @TestFactory
    Stream<DynamicTest> commandLine() throws Exception {
        String bs = stack.bootstrapServers();
        String models = bundle.toString();
        List<DynamicTest> t = new ArrayList<>();
        t.add(cli("submit: job id ../../tmp/x", "submit", file("a.jsonl", json("{\"job_id\": \"../../tmp/x\", \"prompt\": \""
                + PROMPT + "\"}\n")).toString(), "--bootstrap", bs, "--models", models));
        t.add(cli("submit: size 33", "submit", file("b.jsonl", json("{\"job_id\": \"b\", \"prompt\": \"" + PROMPT
                + "\", \"size\": 33}\n")).toString(), "--bootstrap", bs, "--models", models));
        t.add(cli("submit: seed \"abc\"", "submit", file("c.jsonl", json("{\"job_id\": \"c\", \"prompt\": \"" + PROMPT
                + "\", \"seed\": \"abc\"}\n")).toString(), "--bootstrap", bs, "--models", models));
        t.add(cli("submit: a word outside the vocabulary", "submit", file("d.jsonl", json("{\"job_id\": \"d\", \"prompt\":"
                + " \"a zyzzyva\"}\n")).toString(), "--bootstrap", bs, "--models", models));
        t.add(cli("submit --caption: a truncated PNG", "submit", "--caption", file("t.png", truncatedPng()).toString(),
                "--bootstrap", bs, "--models", models));
        t.add(cli("submit --caption: a PNG bomb", "submit", "--caption", file("bomb.png", pngBomb()).toString(),
                "--bootstrap", bs, "--models", models));
        t.add(cli("submit --caption: a garbage JPEG", "submit", "--caption", file("g.jpg", garbageJpeg()).toString(),
                "--bootstrap", bs, "--models", models));
        t.add(cli("stream --variations: a truncated PNG", "stream", "--variations", file("v.png", truncatedPng()).toString(),
                "--gateway", stack.gatewayAddress()));
        t.add(cli("stream: --seed -1", "stream", PROMPT, "--seed", "-1", "--gateway", stack.gatewayAddress()));
        t.add(cli("generate: a word outside the vocabulary", "generate", "a zyzzyva", "--models", models));
        return t.stream();
    }
}
