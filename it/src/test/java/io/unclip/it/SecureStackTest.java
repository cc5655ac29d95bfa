package io.unclip.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.google.protobuf.ByteString;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.unclip.api.v1.CaptionRequest;
import io.unclip.api.v1.EncodeRequest;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GetJobRequest;
import io.unclip.api.v1.ImageServiceGrpc;
import io.unclip.api.v1.TextEncoderServiceGrpc;
import io.unclip.deploy.LocalStack;
import io.unclip.deploy.StackOptions;
import io.unclip.deploy.StackProcess;
import io.unclip.deploy.StackSecurity;
import io.unclip.deploy.StackStatus;
import io.unclip.engine.image.PngCodec;
import io.unclip.service.auth.ApiKeys;
import io.unclip.service.auth.BearerCredentials;
import io.unclip.service.auth.ClientTls;

/**
 * {@code unclip stack up --secure} as separate processes: a broker whose only client listener is SASL_SSL (SCRAM),
 * every gRPC port TLS only, API keys on the gateway and a service token on the stages. Plaintext, no key and a wrong
 * key are refused with the right status; the right key streams an image through every stage (over SASL_SSL Kafka);
 * a service with a wrong Kafka password stays up, not ready, saying why.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecureStackTest {
    static final Duration WAIT = Duration.ofSeconds(120);

    Path root = Path.of(System.getProperty("unclip.root", "..")).toAbsolutePath().normalize();
    Path bundle = Path.of(System.getProperty("unclip.test.bundle")).toAbsolutePath().normalize();
    Path state = root.resolve("it/target/secure-stack");
    StackStatus stack;
    StackSecurity security;
    ManagedChannel tls;
    String host;
    int port;

    @BeforeAll
    void up() throws Exception {
        LocalStack.down(state);
        long t0 = System.nanoTime();
        stack = LocalStack.up(StackOptions.defaults(root).withStateDir(state).withModels(bundle).withPorts(0, 0)
                .withPartitions(2).withSecure(true)
                .withJvmOptions(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")));
        System.out.printf("secure stack up in %.1f s%n%s", (System.nanoTime() - t0) / 1e9, stack.describe());
        security = StackSecurity.load(state).orElseThrow();
        String[] gw = stack.gatewayAddress().split(":");
        host = gw[0];
        port = Integer.parseInt(gw[1]);
        tls = Grpc.newChannelBuilderForAddress(host, port, ClientTls.credentials(false, security.caPem()))
                .maxInboundMessageSize(32 * 1024 * 1024).build();
    }

    @AfterAll
    void down() throws Exception {
        if (tls != null) {
            tls.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        LocalStack.down(state);
    }

    ImageServiceGrpc.ImageServiceBlockingStub gateway(String key) {
        var stub = ImageServiceGrpc.newBlockingStub(tls).withDeadlineAfter(WAIT.toSeconds(), TimeUnit.SECONDS);
        return key == null ? stub : stub.withCallCredentials(new BearerCredentials(key));
    }

    static GenerateRequest request() {
        return GenerateRequest.newBuilder().setPrompt("a red circle at the top left").setSeed(3).setNumImages(1)
                .setSize(128).build();
    }

    static List<GenerateEvent> drain(java.util.Iterator<GenerateEvent> it) {
        List<GenerateEvent> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    String apiKey() throws Exception {
        return Files.readString(security.apiKey()).strip();
    }

    @Test
    void theRightKeyStreamsAnImageThroughEveryStage() throws Exception {
        List<GenerateEvent> events = drain(gateway(apiKey()).generate(request()));
        GenerateEvent last = events.get(events.size() - 1);
        assertTrue(last.hasResult(), "ends with a result: " + last);
        var image = last.getResult().getImages(0);
        assertEquals(128, image.getWidth());
        assertTrue(PngCodec.withDefaultLimits().decode(image.getImage().getPng().toByteArray()) != null);
    }

    /** The unclip command as a user runs it (its jar), in {@code dir}, with no UNCLIP_* environment. */
    record Cli(int code, String out, String err) {
    }

    Cli unclip(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", root.resolve("cli/target/unclip.jar").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("UNCLIP_"));
        Path out = dir.resolve("stdout.txt");
        Path err = dir.resolve("stderr.txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "unclip " + String.join(" ", args));
        return new Cli(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void unclipStreamConnectsWithCaAndKeyAndSaysWhyWithout() throws Exception {
        Path dir = Files.createDirectories(state.resolve("cli"));
        String gw = stack.gatewayAddress();
        Cli ok = unclip(dir, "stream", "--gateway", gw, "--ca", security.caPem().toString(), "--api-key-file",
                security.apiKey().toString(), "--size", "32", "--seed", "5", "-o", "secure.png", "a red circle");
        assertEquals(0, ok.code(), ok.toString());
        assertTrue(Files.size(dir.resolve("secure.png")) > 0);

        Cli plain = unclip(dir, "stream", "--gateway", gw, "--api-key-file", security.apiKey().toString(),
                "--size", "32", "-o", "plain.png", "a red circle");
        assertEquals(1, plain.code(), plain.toString());
        assertTrue(plain.err().contains("UNAVAILABLE") && plain.err().contains("--tls, or --ca FILE"), plain.err());
        assertEquals(1, plain.err().strip().lines().count(), plain.err());

        Path wrongKey = dir.resolve("wrong-key");
        Files.writeString(wrongKey, ApiKeys.newKey());
        Cli wrong = unclip(dir, "stream", "--gateway", gw, "--ca", security.caPem().toString(), "--api-key-file",
                wrongKey.toString(), "--size", "32", "-o", "wrong.png", "a red circle");
        assertEquals(1, wrong.code(), wrong.toString());
        assertTrue(wrong.err().contains("UNAUTHENTICATED: API key not recognised"), wrong.err());
        assertFalse(Files.exists(dir.resolve("wrong.png")));
    }

    @Test
    void plaintextToTheTlsPortFails() throws Exception {
        ManagedChannel plain = ManagedChannelBuilder.forAddress(host, port).usePlaintext().build();
        try {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> drain(
                    ImageServiceGrpc.newBlockingStub(plain).withDeadlineAfter(20, TimeUnit.SECONDS)
                            .withCallCredentials(new BearerCredentials(apiKey())).generate(request())));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
        } finally {
            plain.shutdownNow();
        }
    }

    @Test
    void noKeyOrAWrongKeyIsUnauthenticated() {
        StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
                () -> drain(gateway(null).generate(request())));
        assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode());
        assertTrue(none.getStatus().getDescription().contains("authorization: Bearer"), none.toString());
        StatusRuntimeException wrong = assertThrows(StatusRuntimeException.class,
                () -> drain(gateway(ApiKeys.newKey()).generate(request())));
        assertEquals(Status.Code.UNAUTHENTICATED, wrong.getStatus().getCode());
        assertTrue(wrong.getStatus().getDescription().contains("not recognised"), wrong.toString());
    }

    @Test
    void aKeyAddedToTheFileWorksAtOnceAndOnlyForItsMethods() throws Exception {
        String reader = ApiKeys.newKey();
        Files.writeString(security.apiKeys(), ApiKeys.line(reader, "reader", List.of("unclip.v1.ImageService/GetJob"))
                + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        StatusRuntimeException e;
        while (true) {
            e = assertThrows(StatusRuntimeException.class,
                    () -> gateway(reader).getJob(GetJobRequest.newBuilder().setJobId("no-such-job").build()));
            if (e.getStatus().getCode() != Status.Code.UNAUTHENTICATED || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(200); // the gateway re-reads the file at most once a second
        }
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), "the new key is let in: " + e);
        StatusRuntimeException denied = assertThrows(StatusRuntimeException.class,
                () -> drain(gateway(reader).generate(request())));
        assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
        assertTrue(denied.getStatus().getDescription().contains("'reader' may not call unclip.v1.ImageService/Generate"),
                denied.toString());
    }

    @Test
    void stagesTakeOnlyTheServiceTokenAndTheGatewayPresentsIt() throws Exception {
        StackProcess encoder = stack.processes().stream().filter(p -> p.service().equals("text-encoder")).findFirst()
                .orElseThrow();
        ManagedChannel ch = Grpc.newChannelBuilderForAddress("localhost", encoder.port(),
                ClientTls.credentials(false, security.caPem())).build();
        try {
            EncodeRequest r = EncodeRequest.newBuilder().addPrompts("a red circle").build();
            var stub = TextEncoderServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
            StatusRuntimeException userKey = assertThrows(StatusRuntimeException.class,
                    () -> stub.withCallCredentials(new BearerCredentials(apiKey())).encode(r));
            assertEquals(Status.Code.UNAUTHENTICATED, userKey.getStatus().getCode(), "a user's key is not a stage's");
            String token = Files.readString(security.serviceToken()).strip();
            assertEquals(1, stub.withCallCredentials(new BearerCredentials(token)).encode(r).getEncodingsCount());
        } finally {
            ch.shutdownNow();
        }
        // the gateway calls the captioner over TLS with the service token
        byte[] png = drain(gateway(apiKey()).generate(request())).stream().filter(GenerateEvent::hasResult)
                .findFirst().orElseThrow().getResult().getImages(0).getImage().getPng().toByteArray();
        var tokens = new ArrayList<String>();
        gateway(apiKey()).caption(CaptionRequest.newBuilder().setImage(ByteString.copyFrom(png)).build())
                .forEachRemaining(t -> tokens.add(t.getText()));
        assertFalse(tokens.isEmpty());
    }

    @Test
    void aServiceWithAWrongKafkaPasswordStaysUpNotReadySayingWhy() throws Exception {
        Properties p = new Properties();
        try (var in = Files.newInputStream(security.serviceConfig())) {
            p.load(in);
        }
        p.setProperty("kafka.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"unclip\" password=\"wrong\";");
        Path wrong = state.resolve("wrong-password.properties");
        try (var out = Files.newOutputStream(wrong)) {
            p.store(out, null);
        }
        int svcPort;
        try (var socket = new java.net.ServerSocket(0)) {
            svcPort = socket.getLocalPort();
        }
        Path log = state.resolve("logs/wrong-password.log");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dquarkus.http.ssl-port=" + svcPort,
                "-Dquarkus.config.locations=" + wrong, "-Dkafka.bootstrap.servers=" + stack.bootstrapServers(),
                "-Dunclip.models.dir=" + bundle, "-Dunclip.auth.keys-file=" + security.serviceToken().resolveSibling(
                        "service-tokens"), "-Dunclip.instance-id=wrong-password", "-jar",
                root.resolve("text-encoder-svc/target/quarkus-app/quarkus-run.jar").toString());
        Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            HttpClient http = HttpClient.newBuilder().sslContext(security.sslContext())
                    .connectTimeout(Duration.ofSeconds(2)).build();
            URI ready = URI.create("https://localhost:" + svcPort + "/q/health/ready");
            long deadline = System.nanoTime() + WAIT.toNanos();
            String body = "";
            while (System.nanoTime() < deadline && !body.contains("credentials")) {
                assertTrue(proc.isAlive(), "the service must not exit:\n" + Files.readString(log));
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(5))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertNotEquals(200, r.statusCode(), "ready with a wrong Kafka password: " + r.body());
                    body = r.body();
                } catch (java.io.IOException e) {
                    // not listening yet
                }
                Thread.sleep(500);
            }
            assertTrue(body.contains("Kafka refused this service's credentials"), body);
            Thread.sleep(6000); // past a retry: still up, still saying why
            assertTrue(proc.isAlive(), "no crash loop");
            String text = Files.readString(log);
            assertTrue(text.contains("Kafka refused this service's credentials (check kafka.sasl.mechanism and"
                    + " kafka.sasl.jaas.config"), text);
            assertFalse(text.contains("password=\"wrong\""), "the password is not logged");
        } finally {
            proc.destroy();
            proc.waitFor(20, TimeUnit.SECONDS);
            proc.destroyForcibly();
        }
    }
}
