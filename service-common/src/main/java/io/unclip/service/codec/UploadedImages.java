package io.unclip.service.codec;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

import javax.imageio.ImageIO;

import com.google.protobuf.ByteString;

import io.unclip.engine.image.DecodedImage;
import io.unclip.engine.image.ImageRejectedException;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.validate.Checks;
import io.unclip.service.validate.ImageHeaders;

/**
 * Uploaded images (PNG or JPEG, already checked by {@code Checks.uploadedImage}: bytes, and pixel
 * count from the header) as the PNG the stage models read. PNGs pass through untouched; JPEGs are
 * decoded by the JDK's ImageIO and re-encoded as PNG.
 *
 * <p>An image that the header check let through can still be corrupt (cut off in transit, say).
 * That is the client's input, not a stage failure, so every place that decodes a request's
 * image does it here: a refused image is an {@link InvalidRequestException}
 * naming the field (INVALID_ARGUMENT over gRPC, a dead letter at once over Kafka).
 */
public final class UploadedImages {
    private UploadedImages() {
    }

    /**
     * @param field the request field, for the error
     * @throws InvalidRequestException when the image cannot be decoded
     */
    public static ByteString asPng(String field, ByteString image) {
        if (isPng(field, image)) {
            return image;
        }
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(image.toByteArray()));
            if (img == null) {
                throw Checks.invalid(field, "cannot decode the image");
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return ByteString.copyFrom(out.toByteArray());
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidRequestException i) {
                throw i;
            }
            throw Checks.invalid(field, "cannot decode the image: " + e.getMessage());
        }
    }

    /**
     * The request's image (PNG or JPEG) decoded to pixels.
     *
     * @throws InvalidRequestException when it is corrupt or over the codec's limits
     */
    public static DecodedImage decode(String field, ByteString image, PngCodec png) {
        byte[] bytes = asPng(field, image).toByteArray();
        try {
            return png.decode(bytes);
        } catch (ImageRejectedException e) {
            throw Checks.invalid(field, e.getMessage());
        }
    }

    /**
     * Checks that the request's image decodes, without keeping its pixels (the gateway's door).
     *
     * @throws InvalidRequestException when it is corrupt or over the codec's limits
     */
    public static void verify(String field, ByteString image, PngCodec png) {
        if (!isPng(field, image)) {
            asPng(field, image); // a JPEG is decoded (and refused if corrupt) on its way to PNG
            return;
        }
        try {
            png.verify(image.toByteArray());
        } catch (ImageRejectedException e) {
            throw Checks.invalid(field, e.getMessage());
        }
    }

    private static boolean isPng(String field, ByteString image) {
        try {
            return ImageHeaders.probe(image).format() == ImageHeaders.Format.PNG;
        } catch (IllegalArgumentException e) {
            throw Checks.invalid(field, e.getMessage());
        }
    }
}
