package io.unclip.upsampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import io.unclip.api.v1.FloatTensor;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.SamplerParams;
import io.unclip.api.v1.UpsampleRequest;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.kafka.testkit.TestImages;
import io.unclip.kafka.testkit.TestTensors;

class UpsampleRequestValidatorTest {
    final UpsampleRequestValidator validator = new UpsampleRequestValidator();

    static UpsampleRequest.Builder valid() {
        return UpsampleRequest.newBuilder().setPixels(TestTensors.filled(0f, 2, 3, 8, 8)).setCascadeStep(0).setSeed(3)
                .setParams(SamplerParams.newBuilder().setSteps(10));
    }

    String field(UpsampleRequest r) {
        return assertThrows(InvalidRequestException.class, () -> validator.validate(r)).field();
    }

    @Test
    void acceptsValidRequests() {
        UpsampleRequestValidator.Valid v = validator.validate(valid().build());
        assertEquals(2, v.batch());
        assertEquals(8, v.side());
        v = validator.validate(valid().setImage(ImageRef.newBuilder().setPng(TestImages.encode("png", 32, 32))).setCascadeStep(1).build());
        assertEquals(1, v.batch());
        assertEquals(32, v.side());
        FloatTensor blob = FloatTensor.newBuilder().addShape(8).addShape(3).addShape(128).addShape(128)
                .setUri("file:///var/unclip/blobs/ab").setSha256("ab".repeat(32)).build();
        assertEquals(128, validator.validate(valid().setPixels(blob).build()).side());
    }

    @Test
    void namesTheOffendingField() {
        assertEquals("low_res", field(valid().clearLowRes().build()));
        assertEquals("pixels.shape", field(valid().setPixels(TestTensors.filled(0f, 3, 8, 8)).build()));
        assertEquals("pixels.shape", field(valid().setPixels(TestTensors.filled(0f, 1, 4, 8, 8)).build()));
        assertEquals("pixels.shape", field(valid().setPixels(TestTensors.filled(0f, 1, 3, 8, 16)).build()));
        assertEquals("pixels.shape", field(valid().setPixels(TestTensors.filled(0f, 1, 3, 2, 2)).build()));
        assertEquals("pixels.data", field(valid().setPixels(TestTensors.filled(0f, 1, 3, 8, 8).toBuilder()
                .setData(5, Float.NaN)).build()));
        assertEquals("image", field(valid().setImage(ImageRef.newBuilder().setPng(TestImages.encode("png", 32, 16))).build()));
        assertEquals("image.png", field(valid().setImage(ImageRef.newBuilder()
                .setPng(com.google.protobuf.ByteString.copyFromUtf8("not an image"))).build()));
        assertEquals("cascade_step", field(valid().setCascadeStep(4).build()));
        assertEquals("params.respacing", field(valid().setParams(SamplerParams.newBuilder().setRespacing("ddim0")).build()));
        assertEquals("preview_interval", field(valid().setPreviewInterval(5000).build()));
    }
}
