package io.unclip.upsampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.unclip.api.v1.FloatTensor;
import io.unclip.api.v1.SamplerParams;
import io.unclip.api.v1.UpsampleRequest;
import io.unclip.api.v1.UpsamplerServiceGrpc;

/**
 * An internal failure (the blob store cannot be written: its directory is a file) reaches the
 * client as INTERNAL with a short message and an error id, and the service log has the id with
 * the stack trace; no class name, path or exception message goes to the client.
 */
@QuarkusTest
@TestProfile(UpsamplerInternalErrorTest.BrokenBlobStore.class)
class UpsamplerInternalErrorTest {
    /** The tiny bundle, no broker, and a blob store whose directory is a regular file. */
    public static class BrokenBlobStore implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                return Map.of("unclip.models.dir", System.getProperty("unclip.test.bundle"),
                        "unclip.blobs.dir", Files.createTempFile("unclip-blobs-", ".not-a-directory").toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @TestHTTPResource("/")
    java.net.URL base;

    @Test
    void internalFailuresSayErrorIdNotTheException() throws Exception {
        List<LogRecord> logged = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                synchronized (logged) {
                    logged.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger.getLogger("").addHandler(capture);
        ManagedChannel channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            io.unclip.kafka.testkit.Ready.await(base.toString(), java.time.Duration.ofSeconds(60));
            // 3 images of 128x128 are over the inline limit: the output goes to the (unwritable) blob store
            FloatTensor.Builder px = FloatTensor.newBuilder().addShape(3).addShape(3).addShape(32).addShape(32);
            for (int i = 0; i < 3 * 3 * 32 * 32; i++) {
                px.addData(0f);
            }
            UpsampleRequest request = UpsampleRequest.newBuilder().setPixels(px).setCascadeStep(1).setSeed(1)
                    .setParams(SamplerParams.newBuilder().setSteps(1)).build();
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> UpsamplerServiceGrpc
                    .newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).upsample(request)
                    .forEachRemaining(ev -> {
                    }));
            assertEquals(Status.Code.INTERNAL, e.getStatus().getCode(), e.getStatus().toString());
            String description = e.getStatus().getDescription();
            Matcher m = Pattern.compile("internal error \\(error id ([0-9a-f]{8})\\); see the service log")
                    .matcher(description);
            assertTrue(m.matches(), description);
            assertFalse(description.contains("Exception") || description.contains("/"), description);
            String id = m.group(1);
            synchronized (logged) {
                assertTrue(logged.stream().anyMatch(r -> r.getThrown() != null && text(r).contains("error id " + id)),
                        "the log has the error id with the stack trace");
            }
        } finally {
            channel.shutdownNow();
            java.util.logging.Logger.getLogger("").removeHandler(capture);
        }
    }

    static String text(LogRecord r) {
        return r instanceof ExtLogRecord ext ? ext.getFormattedMessage() : String.valueOf(r.getMessage());
    }
}
