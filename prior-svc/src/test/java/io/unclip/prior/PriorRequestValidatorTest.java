package io.unclip.prior;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import io.unclip.api.v1.PriorRequest;
import io.unclip.api.v1.SamplerParams;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.kafka.testkit.TestTensors;

class PriorRequestValidatorTest {
    final PriorRequestValidator validator = new PriorRequestValidator();

    static PriorRequest.Builder valid() {
        return PriorRequest.newBuilder().setText(TestTensors.text(32, 8, 16)).setNumImages(2).setSeed(42)
                .setParams(SamplerParams.newBuilder().setSteps(25).setGuidanceScale(4f));
    }

    String field(PriorRequest r) {
        return assertThrows(InvalidRequestException.class, () -> validator.validate(r)).field();
    }

    @Test
    void acceptsValidRequests() {
        PriorRequestValidator.Valid v = validator.validate(valid().build());
        assertEquals(2, v.numImages());
        assertEquals(25, v.steps());
        assertEquals(1, validator.validate(valid().setNumImages(0).clearParams().build()).numImages());
        validator.validate(valid().setUnconditional(TestTensors.text(32, 8, 16)).setJobId("job-1").build());
    }

    @Test
    void namesTheOffendingField() {
        assertEquals("text", field(valid().clearText().build()));
        assertEquals("text.last_hidden_state.data", field(valid().setText(TestTensors.text(32, 8, 16).toBuilder()
                .setLastHiddenState(TestTensors.filled(0f, 8, 16).toBuilder().addData(1f))).build()));
        assertEquals("unconditional", field(valid().setUnconditional(TestTensors.text(32, 4, 16)).build()));
        assertEquals("num_images", field(valid().setNumImages(9).build()));
        assertEquals("params.steps", field(valid().setParams(SamplerParams.newBuilder().setSteps(0)).build()));
        assertEquals("params.steps", field(valid().setParams(SamplerParams.newBuilder().setSteps(5000)).build()));
        assertEquals("params.guidance_scale", field(valid().setParams(SamplerParams.newBuilder().setGuidanceScale(51)).build()));
        assertEquals("params.respacing", field(valid().setParams(SamplerParams.newBuilder().setRespacing("fast")).build()));
        assertEquals("job_id", field(valid().setJobId("no spaces allowed").build()));
    }
}
