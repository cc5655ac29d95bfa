package io.unclip.engine.onnx;

import ai.onnxruntime.TensorInfo.OnnxTensorType;
import java.util.Locale;
import java.util.Optional;

/** ONNX tensor element types, named as in manifests ("float32", "int64", "bool", ...). */
public enum ElementType {
    FLOAT32("float32"),
    FLOAT16("float16"),
    BFLOAT16("bfloat16"),
    FLOAT64("float64"),
    INT8("int8"),
    INT16("int16"),
    INT32("int32"),
    INT64("int64"),
    UINT8("uint8"),
    UINT16("uint16"),
    UINT32("uint32"),
    UINT64("uint64"),
    BOOL("bool"),
    STRING("string"),
    /** Anything else ONNX Runtime reports (complex, float8, undefined). */
    OTHER("other");

    private final String id;

    ElementType(String id) {
        this.id = id;
    }

    /** The manifest spelling. */
    public String id() {
        return id;
    }

    /** Looks up a manifest spelling; "other" is not accepted in manifests. */
    public static Optional<ElementType> fromId(String id) {
        String s = id.toLowerCase(Locale.ROOT);
        for (ElementType t : values()) {
            if (t != OTHER && t.id.equals(s)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    static ElementType of(OnnxTensorType t) {
        return switch (t) {
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> FLOAT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> FLOAT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> BFLOAT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> FLOAT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> INT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> INT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> INT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> INT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> UINT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> UINT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> UINT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> UINT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> BOOL;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> STRING;
            default -> OTHER;
        };
    }

    @Override
    public String toString() {
        return id;
    }
}
