package io.unclip.engine.onnx;

import java.util.Locale;

/** Where ONNX Runtime executes a model. */
public enum Device {
    CPU,
    CUDA;

    /** Lower-case name as used in configuration ("cpu", "cuda"). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
