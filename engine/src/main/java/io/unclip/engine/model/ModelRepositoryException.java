package io.unclip.engine.model;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A bundle or stage model cannot be used. The message starts with the offending file, relative
 * to the bundle directory where possible ("decoder/manifest.json: ..."), and says what was
 * expected and what was found.
 */
public class ModelRepositoryException extends RuntimeException {
    private final transient Path file;

    public ModelRepositoryException(Path file, String message) {
        super(message);
        this.file = file;
    }

    public ModelRepositoryException(Path file, String message, Throwable cause) {
        super(message, cause);
        this.file = file;
    }

    /** The file (or directory) the problem is in, when there is one. */
    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }
}
