package io.unclip.textencoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.unclip.api.v1.EncodeRequest;
import io.unclip.api.v1.TextEncoderServiceGrpc;
import io.unclip.kafka.testkit.StageServiceTestBase;
import io.unclip.service.GrpcStatuses;

/**
 * The running service without a model bundle, over a real socket: its request checks (health,
 * readiness and metrics are the base class's).
 */
@QuarkusTest
class TextEncoderServiceTest extends StageServiceTestBase {
    TextEncoderServiceTest() {
        super(TextEncoderServiceGrpc.SERVICE_NAME);
    }

    StatusRuntimeException encode(EncodeRequest request) {
        var stub = TextEncoderServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        return assertThrows(StatusRuntimeException.class, () -> stub.encode(request));
    }

    @Test
    void invalidRequestIsInvalidArgumentNamingTheField() {
        StatusRuntimeException e = encode(EncodeRequestValidatorTest.valid().addPrompts("x".repeat(300)).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("prompts[1]: must be at most 256 characters, got 300", e.getStatus().getDescription());
        assertEquals("prompts[1]", GrpcStatuses.badRequest(e).getFieldViolations(0).getField());

        e = encode(EncodeRequest.newBuilder().addPrompts("").build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("prompts[0]: is required", e.getStatus().getDescription());
    }

    @Test
    void validRequestSaysTheModelIsNotLoaded() {
        StatusRuntimeException e = encode(EncodeRequestValidatorTest.valid().build());
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("text-encoder model not loaded: unclip.models.dir is not set"),
                e.getStatus().getDescription());
    }
}
