package io.unclip.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import com.google.protobuf.ByteString;

import io.unclip.engine.image.PngCodec;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.codec.UploadedImages;
import io.unclip.service.validate.Checks;
import io.unclip.service.validate.Limits;

/**
 * Image files sent to the distributed stack as they are, checked first the way the services will
 * check and decode them, so a bad image is bad input here rather than a failed job there.
 */
final class ImageUploads {
    private static final PngCodec PNG = PngCodec.withDefaultLimits();

    private ImageUploads() {
    }

    /**
     * The bytes of {@code image} (resolved against {@code workDir}), refused before reading when over
     * the API's upload limit.
     */
    static byte[] read(Path workDir, Path image) {
        Path p = workDir.resolve(image);
        try {
            if (Files.size(p) > Limits.MAX_IMAGE_BYTES) {
                throw CliException.badInput(image + ": over " + Limits.MAX_IMAGE_BYTES + " bytes");
            }
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw CliException.badInput("cannot read " + image + ": no such file");
        } catch (IOException e) {
            throw CliException.badInput("cannot read " + image + ": " + e.getMessage());
        }
    }

    /**
     * Checks an uploaded image as a stage service does before using it: its header with the API's
     * limits ({@link Checks#uploadedImage}: PNG or JPEG, size, no decompression bomb), then a full
     * decode the way the services decode it (a JPEG through {@link UploadedImages#asPng}, then the
     * engine's {@link PngCodec}), so a truncated or corrupt file is caught here.
     *
     * @throws InvalidRequestException "field: reason"
     */
    static void check(String field, ByteString image) {
        Checks.uploadedImage(field, image);
        try {
            PNG.decode(UploadedImages.asPng(field, image).toByteArray());
        } catch (InvalidRequestException e) {
            throw e;
        } catch (RuntimeException e) { // ImageRejectedException, and whatever ImageIO throws on a corrupt JPEG
            throw Checks.invalid(field, e.getMessage() == null ? "cannot decode the image" : e.getMessage());
        }
    }

    /** {@link #read} and {@link #check}: bad input naming {@code option} and the file. */
    static ByteString readChecked(Path workDir, String option, Path image) {
        ByteString bytes = ByteString.copyFrom(read(workDir, image));
        try {
            check("image", bytes);
        } catch (InvalidRequestException e) {
            throw CliException.badInput(option + " " + image + ": " + e.reason());
        }
        return bytes;
    }
}
