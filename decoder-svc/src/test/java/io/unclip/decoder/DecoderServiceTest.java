package io.unclip.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.unclip.api.v1.DecodeRequest;
import io.unclip.api.v1.DecoderServiceGrpc;
import io.unclip.api.v1.SamplerParams;
import io.unclip.kafka.testkit.StageServiceTestBase;
import io.unclip.kafka.testkit.TestTensors;
import io.unclip.service.GrpcStatuses;

/**
 * The running service without a model bundle, over a real socket: its request checks (health,
 * readiness and metrics are the base class's).
 */
@QuarkusTest
class DecoderServiceTest extends StageServiceTestBase {
    DecoderServiceTest() {
        super(DecoderServiceGrpc.SERVICE_NAME);
    }

    StatusRuntimeException decode(DecodeRequest request) {
        var stub = DecoderServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        return assertThrows(StatusRuntimeException.class, () -> stub.decode(request).forEachRemaining(e -> {
        }));
    }

    @Test
    void invalidRequestIsInvalidArgumentNamingTheField() {
        StatusRuntimeException e = decode(DecodeRequestValidatorTest.valid()
                .setImageEmbeds(TestTensors.filled(0f, 2, 32).toBuilder().clearShape().addShape(2).addShape(31)).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("image_embeds.data: shape [2, 31] needs 62 values, got 64"),
                e.getStatus().getDescription());
        assertEquals("image_embeds.data", GrpcStatuses.badRequest(e).getFieldViolations(0).getField());

        e = decode(DecodeRequestValidatorTest.valid().setParams(SamplerParams.newBuilder().setGuidanceScale(60f)).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("params.guidance_scale: must be in [0, 50]"),
                e.getStatus().getDescription());
    }

    @Test
    void validRequestSaysTheModelIsNotLoaded() {
        StatusRuntimeException e = decode(DecodeRequestValidatorTest.valid().build());
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("decoder model not loaded: unclip.models.dir is not set"),
                e.getStatus().getDescription());
    }
}
