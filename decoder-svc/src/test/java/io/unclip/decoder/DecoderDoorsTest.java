package io.unclip.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.DecodeEvent;
import io.unclip.api.v1.DecodeRequest;
import io.unclip.api.v1.DecoderServiceGrpc;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.FloatTensor;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageTask;
import io.unclip.kafka.testkit.RawGrpc;
import io.unclip.kafka.testkit.TopicProbe;
import io.unclip.kafka.testkit.WorkerTestBase;
import io.unclip.kafka.testkit.WorkerTestProfile;
import io.unclip.service.GrpcStatuses;
import io.unclip.service.kafka.Topics;

/**
 * The decoder's doors with the tiny bundle loaded, over real sockets: blob URIs must name a blob
 * of this deployment's store (and say nothing about any other file), non-finite inputs and
 * outputs are bad input, and a request whose bytes do not parse is INVALID_ARGUMENT.
 */
@QuarkusTest
@TestProfile(WorkerTestProfile.class)
class DecoderDoorsTest extends WorkerTestBase {
    static final String NOT_OURS = "image_embeds.uri: not a blob of this deployment's store";

    ManagedChannel channel;
    Path store;

    DecoderDoorsTest() {
        super(Topics.RESULTS, Topics.DEAD_LETTER, Topics.DECODER);
    }

    @BeforeAll
    void connect() throws Exception {
        channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        // the services' default store (unclip.blobs.dir unset)
        store = Path.of(System.getProperty("java.io.tmpdir"), "unclip-blobs");
        Files.createDirectories(store);
    }

    @AfterAll
    void disconnect() {
        channel.shutdownNow();
    }

    DecodeRequest.Builder request(FloatTensor embeds) {
        Random r = new Random(5);
        return DecodeRequest.newBuilder().setImageEmbeds(embeds).setText(DecoderWorkerTest.text(r))
                .setUnconditional(DecoderWorkerTest.text(r)).setSeed(1)
                .setParams(io.unclip.api.v1.SamplerParams.newBuilder().setSteps(2));
    }

    List<DecodeEvent> decode(DecodeRequest request) {
        List<DecodeEvent> events = new ArrayList<>();
        DecoderServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).decode(request)
                .forEachRemaining(events::add);
        return events;
    }

    StatusRuntimeException fails(DecodeRequest request) {
        return assertThrows(StatusRuntimeException.class, () -> decode(request));
    }

    static FloatTensor blob(String uri, String sha256, long... shape) {
        FloatTensor.Builder b = FloatTensor.newBuilder().setUri(uri).setSha256(sha256);
        for (long d : shape) {
            b.addShape(d);
        }
        return b.build();
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    /** Writes {@code bytes} into the store as the blob named by their digest. */
    Path putBlob(byte[] bytes) throws Exception {
        String sha = sha256(bytes);
        Path file = store.resolve(sha.substring(0, 2)).resolve(sha);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        return file;
    }

    void assertNotOurs(StatusRuntimeException e) {
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertEquals(NOT_OURS, e.getStatus().getDescription());
        assertEquals("image_embeds.uri", GrpcStatuses.badRequest(e).getFieldViolations(0).getField());
    }

    @Test
    void blobUrisOutsideTheStoreAreInvalidAndSayNothingAboutTheFile() throws Exception {
        String zeros = "0".repeat(64);
        byte[] passwd = Files.readAllBytes(Path.of("/etc/passwd"));
        long n = passwd.length / 4;
        // wrong digest, right digest, a missing file, an endless device, a path that climbs out of the store
        assertNotOurs(fails(request(blob("file:///etc/passwd", zeros, 1, 16)).build()));
        assertNotOurs(fails(request(blob("file:///etc/passwd", sha256(passwd), 1, n)).build()));
        assertNotOurs(fails(request(blob("file:///no/such/file", zeros, 1, 16)).build()));
        assertNotOurs(fails(request(blob("file:///dev/zero", zeros, 1, 16)).build()));
        assertNotOurs(fails(request(blob(store.toUri() + "../../../../../../etc/passwd", sha256(passwd), 1, n)).build()));
        assertNotOurs(fails(request(blob("http://example.org/x", zeros, 1, 16)).build()));
        // a link in the store that points out of it
        Path link = store.resolve("ab").resolve("link-to-passwd");
        Files.createDirectories(link.getParent());
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, Path.of("/etc/passwd"));
        assertNotOurs(fails(request(blob(link.toUri().toString(), sha256(passwd), 1, n)).build()));
        // a blob of the store, but not of the declared size
        Path short_ = putBlob(floats(new float[8]));
        assertNotOurs(fails(request(blob(short_.toUri().toString(), sha256(floats(new float[8])), 1, 16)).build()));
    }

    @Test
    void aBlobOfTheStoreIsReadAndCheckedAgainstItsDigestAndForFiniteValues() throws Exception {
        float[] v = new float[16];
        for (int i = 0; i < v.length; i++) {
            v[i] = 0.1f * i;
        }
        byte[] bytes = floats(v);
        Path file = putBlob(bytes);
        List<DecodeEvent> events = decode(request(blob(file.toUri().toString(), sha256(bytes), 1, 16)).build());
        assertEquals(List.of(1L, 3L, 8L, 8L), events.get(events.size() - 1).getOutput().getPixels().getShapeList());

        StatusRuntimeException e = fails(request(blob(file.toUri().toString(), "1".repeat(64), 1, 16)).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertEquals("image_embeds.uri: the blob does not match its sha256", e.getStatus().getDescription());

        v[3] = Float.NaN;
        byte[] nan = floats(v);
        Path bad = putBlob(nan);
        e = fails(request(blob(bad.toUri().toString(), sha256(nan), 1, 16)).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().startsWith("image_embeds: value 3 is not finite"),
                e.getStatus().getDescription());
    }

    static FloatTensor huge(int rows) {
        FloatTensor.Builder b = FloatTensor.newBuilder().addShape(rows).addShape(16);
        for (int i = 0; i < rows * 16; i++) {
            b.addData(i % 2 == 0 ? 1e30f : -1e30f);
        }
        return b.build();
    }

    @Test
    void finiteButHugeEmbeddingsThatMakeNaNImagesAreInvalidArgument() {
        StatusRuntimeException e = fails(request(huge(1)).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().startsWith("image_embeds: "), e.getStatus().getDescription());
        assertTrue(e.getStatus().getDescription().contains("not finite"), e.getStatus().getDescription());
    }

    @Test
    void aTaskWhoseOutputIsNotFiniteFailsAtOnceWithTheReason() throws Exception {
        StageTask task = DecoderWorkerTest.task("dec-nan", 1, 8);
        task = task.toBuilder().setInputs(task.getInputs().toBuilder().setImageEmbeds(huge(1))).build();
        kafka.send(Topics.DECODER, "dec-nan", task.toByteArray());

        JobResult failed = JobResult.parseFrom(kafka.first(Topics.RESULTS, "dec-nan", WAIT).value());
        assertEquals(JobState.FAILED, failed.getStatus());
        assertEquals(FailureCode.INVALID_REQUEST, failed.getError().getCode(), failed.toString());
        assertTrue(failed.getError().getMessage().contains("not finite"), failed.getError().getMessage());
        DeadLetter dl = DeadLetter.parseFrom(kafka.first(Topics.DEAD_LETTER, "dec-nan", WAIT).value());
        assertEquals(dl.getReason(), failed.getError().getMessage());
        assertEquals(1, kafka.settle(TopicProbe.on(Topics.DECODER, "dec-nan"), Duration.ofSeconds(2)).size(),
                "no retries: the task was sent once and never queued again");
        assertEquals(1, kafka.settle(TopicProbe.on(Topics.RESULTS, "dec-nan"), Duration.ZERO).size());
    }

    @Test
    void aRequestThatIsNotValidProtobufIsInvalidArgument() throws Exception {
        byte[] ok = request(huge(1)).setJobId("jobXXid").build().toByteArray();
        Status s = RawGrpc.call(channel, DecoderServiceGrpc.getDecodeMethod().getFullMethodName(),
                RawGrpc.breakUtf8(ok, "XX"));
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
        assertTrue(s.getDescription().startsWith("request: is not a valid"), s.getDescription());
        assertFalse(s.getDescription().contains("Exception"), s.getDescription());
    }
}
