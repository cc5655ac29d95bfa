package io.unclip.service.codec;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

import javax.imageio.ImageIO;

import com.google.protobuf.ByteString;

import io.unclip.api.validate.Checks;
import io.unclip.api.validate.ImageHeaders;

/**
 * Uploaded images (PNG or JPEG, already checked by {@code Checks.uploadedImage}: bytes, and pixel
 * count from the header) as the PNG the stage models read. PNGs pass through untouched; JPEGs are
 * decoded by the JDK's ImageIO and re-encoded as PNG.
 */
public final class UploadedImages {
    private UploadedImages() {
    }

    /**
     * @param field the request field, for the error
     * @throws io.unclip.api.validate.InvalidRequestException when the image cannot be decoded
     */
    public static ByteString asPng(String field, ByteString image) {
        if (ImageHeaders.probe(image).format() == ImageHeaders.Format.PNG) {
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
        } catch (IOException e) {
            throw Checks.invalid(field, "cannot decode the image: " + e.getMessage());
        }
    }
}
