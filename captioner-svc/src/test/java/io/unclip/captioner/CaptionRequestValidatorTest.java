package io.unclip.captioner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import io.unclip.api.v1.CaptionImageRequest;
import io.unclip.api.v1.CaptionStyle;
import io.unclip.api.v1.ImageRef;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.kafka.testkit.TestImages;

class CaptionRequestValidatorTest {
    final CaptionRequestValidator validator = new CaptionRequestValidator();

    static CaptionImageRequest.Builder valid() {
        return CaptionImageRequest.newBuilder().setImage(ImageRef.newBuilder().setPng(TestImages.encode("png", 32, 32)))
                .setStyle(CaptionStyle.DESCRIPTIVE);
    }

    InvalidRequestException fails(CaptionImageRequest r) {
        return assertThrows(InvalidRequestException.class, () -> validator.validate(r));
    }

    @Test
    void acceptsValidRequests() {
        assertEquals(CaptionStyle.DESCRIPTIVE, validator.validate(valid().build()).style());
        assertEquals(CaptionStyle.SHORT, validator.validate(valid().clearStyle().setMaxTokens(256).build()).style());
        validator.validate(valid().setImage(ImageRef.newBuilder().setUri("s3://b/k.png").setSha256("f".repeat(64))
                .setWidth(512).setHeight(512)).build());
    }

    @Test
    void namesTheOffendingField() {
        assertEquals("image", fails(valid().clearImage().build()).field());
        assertEquals("image.png: not a PNG or JPEG image", fails(valid().setImage(ImageRef.newBuilder()
                .setPng(com.google.protobuf.ByteString.copyFromUtf8("hello"))).build()).getMessage());
        assertEquals("image.png", fails(valid().setImage(ImageRef.newBuilder()
                .setPng(TestImages.encode("jpg", 8, 8))).build()).field());
        InvalidRequestException huge = fails(valid().setImage(ImageRef.newBuilder()
                .setPng(TestImages.pngHeaderClaiming(8192, 8192))).build());
        assertTrue(huge.getMessage().startsWith("image.png: image is 8192x8192"), huge.getMessage());
        assertEquals("image.sha256", fails(valid().setImage(ImageRef.newBuilder().setUri("s3://b/k.png")
                .setWidth(512).setHeight(512)).build()).field());
        assertEquals("style", fails(valid().setStyleValue(9).build()).field());
        assertEquals("max_tokens", fails(valid().setMaxTokens(257).build()).field());
    }
}
