package io.unclip.captioner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.unclip.api.v1.CaptionImageRequest;
import io.unclip.api.v1.CaptionerServiceGrpc;
import io.unclip.api.v1.ImageRef;
import io.unclip.kafka.testkit.StageServiceTestBase;
import io.unclip.kafka.testkit.TestImages;
import io.unclip.service.GrpcStatuses;

/**
 * The running service without a model bundle, over a real socket: its request checks (health,
 * readiness and metrics are the base class's).
 */
@QuarkusTest
class CaptionerServiceTest extends StageServiceTestBase {
    CaptionerServiceTest() {
        super(CaptionerServiceGrpc.SERVICE_NAME);
    }

    StatusRuntimeException caption(CaptionImageRequest request) {
        var stub = CaptionerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        return assertThrows(StatusRuntimeException.class, () -> stub.caption(request).forEachRemaining(e -> {
        }));
    }

    @Test
    void invalidRequestIsInvalidArgumentNamingTheField() {
        StatusRuntimeException e = caption(CaptionRequestValidatorTest.valid()
                .setImage(ImageRef.newBuilder().setPng(TestImages.pngHeaderClaiming(5000, 5000))).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("image.png: image is 5000x5000"), e.getStatus().getDescription());
        assertEquals("image.png", GrpcStatuses.badRequest(e).getFieldViolations(0).getField());

        // a 9 MiB upload reaches the validator (the server accepts messages up to 20 MiB)
        e = caption(CaptionRequestValidatorTest.valid().setImage(ImageRef.newBuilder()
                .setPng(TestImages.encode("png", 4, 4).concat(com.google.protobuf.ByteString.copyFrom(new byte[9 << 20])))).build());
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
}
