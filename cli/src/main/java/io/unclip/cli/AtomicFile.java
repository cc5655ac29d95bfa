package io.unclip.cli;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a file under a temporary name beside it and renames it into place, so an interrupted or
 * failed write never leaves a partial file under the final name.
 */
final class AtomicFile {
    private AtomicFile() {
    }

    /** Something that writes a whole file at the given path. */
    @FunctionalInterface
    interface Writer {
        void writeTo(Path file) throws IOException;
    }

    static void write(Path file, Writer writer) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        // a plain new file (not createTempFile, which would make it owner-only) named per process
        Path tmp = dir.resolve("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".part");
        try {
            writer.writeTo(tmp);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
