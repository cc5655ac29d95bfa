package io.unclip.engine.onnx;

import java.nio.file.Path;

/** ONNX Runtime rejected a model file (missing, unreadable, truncated, not ONNX, unsupported). */
public class ModelLoadException extends InferenceException {
    private final transient Path file;
    private final String reason;

    public ModelLoadException(String modelName, Path file, String reason, Throwable cause) {
        super(modelName + ": cannot load ONNX model " + file.getFileName() + ": " + reason, cause);
        this.file = file;
        this.reason = reason;
    }

    public Path file() {
        return file;
    }

    /** Why, without the model and file names (e.g. ONNX Runtime's own message). */
    public String reason() {
        return reason;
    }
}
