package io.unclip.textencoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import io.unclip.api.v1.EncodeRequest;
import io.unclip.engine.stage.InvalidRequestException;

class EncodeRequestValidatorTest {
    final EncodeRequestValidator validator = new EncodeRequestValidator();

    static EncodeRequest.Builder valid() {
        return EncodeRequest.newBuilder().addPrompts("a small red circle at the top left").setIncludeUnconditional(true);
    }

    InvalidRequestException fails(EncodeRequest r) {
        return assertThrows(InvalidRequestException.class, () -> validator.validate(r));
    }

    @Test
    void acceptsValidRequests() {
        assertEquals(1, validator.validate(valid().build()).prompts().size());
        EncodeRequest.Builder many = EncodeRequest.newBuilder().setJobId("j-1");
        for (int i = 0; i < 16; i++) {
            many.addPrompts("a blue square " + i);
        }
        assertEquals(16, validator.validate(many.build()).prompts().size());
        validator.validate(EncodeRequest.newBuilder().addPrompts("x".repeat(256)).build());
    }

    @Test
    void namesTheOffendingField() {
        assertEquals("prompts", fails(EncodeRequest.getDefaultInstance()).field());
        assertEquals("prompts[1]: is required", fails(valid().addPrompts("").build()).getMessage());
        assertEquals("prompts[1]: must not be blank", fails(valid().addPrompts("   ").build()).getMessage());
        assertEquals("prompts[0]: must be at most 256 characters, got 257",
                fails(EncodeRequest.newBuilder().addPrompts("x".repeat(257)).build()).getMessage());
        EncodeRequest.Builder tooMany = EncodeRequest.newBuilder();
        for (int i = 0; i < 17; i++) {
            tooMany.addPrompts("p");
        }
        assertEquals("prompts", fails(tooMany.build()).field());
        assertEquals("job_id", fails(valid().setJobId("a b").build()).field());
    }
}
