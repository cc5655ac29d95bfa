package io.unclip.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import io.unclip.api.v1.DecodeRequest;
import io.unclip.api.v1.Sampler;
import io.unclip.api.v1.SamplerParams;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.kafka.testkit.TestTensors;

class DecodeRequestValidatorTest {
    final DecodeRequestValidator validator = new DecodeRequestValidator();

    static DecodeRequest.Builder valid() {
        return DecodeRequest.newBuilder()
                .setImageEmbeds(TestTensors.filled(0.1f, 2, 32))
                .setText(TestTensors.text(32, 8, 16))
                .setSeed(7)
                .setParams(SamplerParams.newBuilder().setSampler(Sampler.DDIM).setRespacing("ddim25").setEta(0f)
                        .setGuidanceScale(3f))
                .setPreviewInterval(5);
    }

    String field(DecodeRequest r) {
        return assertThrows(InvalidRequestException.class, () -> validator.validate(r)).field();
    }

    @Test
    void acceptsValidRequests() {
        DecodeRequestValidator.Valid v = validator.validate(valid().build());
        assertEquals(2, v.batch());
        assertEquals(32, v.embeddingWidth());
        assertEquals(25, v.steps());
        assertNull(validator.validate(valid().clearText().build()).text());
        validator.validate(valid().setUnconditional(TestTensors.text(32, 8, 16)).build());
        validator.validate(valid().setImageEmbeds(TestTensors.filled(0f, 32, 32)).build());
    }

    @Test
    void namesTheOffendingField() {
        assertEquals("image_embeds", field(valid().clearImageEmbeds().build()));
        assertEquals("image_embeds.shape", field(valid().setImageEmbeds(TestTensors.filled(0f, 64)).build()));
        assertEquals("image_embeds.shape", field(valid().setImageEmbeds(TestTensors.filled(0f, 33, 4)).build()));
        assertEquals("image_embeds.data", field(valid().setImageEmbeds(
                TestTensors.filled(0f, 2, 32).toBuilder().addData(0f)).build()));
        assertEquals("text.attention_mask.shape", field(valid().setText(TestTensors.text(32, 8, 16).toBuilder()
                .setAttentionMask(TestTensors.filled(1f, 9))).build()));
        assertEquals("unconditional", field(valid().setUnconditional(TestTensors.text(16, 8, 16)).build()));
        assertEquals("params.eta", field(valid().setParams(SamplerParams.newBuilder().setEta(2f)).build()));
        assertEquals("params.guidance_scale", field(valid().setParams(SamplerParams.newBuilder()
                .setGuidanceScale(Float.POSITIVE_INFINITY)).build()));
        assertEquals("preview_interval", field(valid().setPreviewInterval(1001).build()));
    }
}
