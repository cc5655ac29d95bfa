package io.unclip.engine.onnx;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.util.Locale;

/** ONNX Runtime graph optimisation level, named as in configuration files. */
public enum GraphOptimization {
    NONE(OptLevel.NO_OPT),
    BASIC(OptLevel.BASIC_OPT),
    EXTENDED(OptLevel.EXTENDED_OPT),
    ALL(OptLevel.ALL_OPT);

    private final OptLevel level;

    GraphOptimization(OptLevel level) {
        this.level = level;
    }

    OptLevel ortLevel() {
        return level;
    }

    /** Parses "none", "basic", "extended" or "all" (case-insensitive). */
    public static GraphOptimization parse(String value) {
        for (GraphOptimization g : values()) {
            if (g.name().equalsIgnoreCase(value.trim())) {
                return g;
            }
        }
        throw new IllegalArgumentException("unknown graph optimisation level '" + value
                + "', expected one of none, basic, extended, all");
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
