package io.unclip.upsampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.unclip.api.v1.UpsampleRequest;
import io.unclip.api.v1.UpsamplerServiceGrpc;
import io.unclip.kafka.testkit.StageServiceTestBase;
import io.unclip.kafka.testkit.TestTensors;
import io.unclip.service.GrpcStatuses;

/**
 * The running service without a model bundle, over a real socket: its request checks (health,
 * readiness and metrics are the base class's).
 */
@QuarkusTest
class UpsamplerServiceTest extends StageServiceTestBase {
    UpsamplerServiceTest() {
        super(UpsamplerServiceGrpc.SERVICE_NAME);
    }

    StatusRuntimeException upsample(UpsampleRequest request) {
        var stub = UpsamplerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        return assertThrows(StatusRuntimeException.class, () -> stub.upsample(request).forEachRemaining(e -> {
        }));
    }

    @Test
    void invalidRequestIsInvalidArgumentNamingTheField() {
        StatusRuntimeException e = upsample(UpsampleRequestValidatorTest.valid().setPixels(TestTensors.filled(0f, 1, 3, 8, 16)).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("pixels.shape: images must be square, got 8x16", e.getStatus().getDescription());
        assertEquals("pixels.shape", GrpcStatuses.badRequest(e).getFieldViolations(0).getField());

        e = upsample(UpsampleRequestValidatorTest.valid().setCascadeStep(7).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("cascade_step: must be in [0, 3], got 7", e.getStatus().getDescription());
    }

    @Test
    void validRequestSaysTheModelIsNotLoaded() {
        StatusRuntimeException e = upsample(UpsampleRequestValidatorTest.valid().build());
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("upsampler model not loaded: unclip.models.dir is not set"),
                e.getStatus().getDescription());
    }
}
