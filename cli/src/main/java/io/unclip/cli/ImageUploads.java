package io.unclip.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import io.unclip.api.validate.Limits;

/** Image files sent to the distributed stack as they are (the services check and decode them). */
final class ImageUploads {
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
}
