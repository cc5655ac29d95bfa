package io.unclip.prior;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.unclip.api.v1.PriorRequest;
import io.unclip.api.v1.PriorServiceGrpc;
import io.unclip.api.v1.SamplerParams;
import io.unclip.kafka.testkit.StageServiceTestBase;
import io.unclip.service.GrpcStatuses;

/**
 * The running service without a model bundle, over a real socket: its request checks (health,
 * readiness and metrics are the base class's).
 */
@QuarkusTest
class PriorServiceTest extends StageServiceTestBase {
    PriorServiceTest() {
        super(PriorServiceGrpc.SERVICE_NAME);
    }

    StatusRuntimeException sample(PriorRequest request) {
        var stub = PriorServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        return assertThrows(StatusRuntimeException.class, () -> stub.sample(request).forEachRemaining(e -> {
        }));
    }

    @Test
    void invalidRequestIsInvalidArgumentNamingTheField() {
        StatusRuntimeException e = sample(PriorRequestValidatorTest.valid()
                .setParams(SamplerParams.newBuilder().setSteps(0)).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("params.steps: "), e.getStatus().getDescription());
        assertEquals("params.steps", GrpcStatuses.badRequest(e).getFieldViolations(0).getField());

        e = sample(PriorRequestValidatorTest.valid().clearText().build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("text: is required", e.getStatus().getDescription());
    }

    @Test
    void validRequestSaysTheModelIsNotLoaded() {
        StatusRuntimeException e = sample(PriorRequestValidatorTest.valid().build());
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("prior model not loaded: unclip.models.dir is not set"),
                e.getStatus().getDescription());
    }
}
