package io.unclip.engine.model;

import io.unclip.engine.onnx.ElementType;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * A tensor as the manifest declares it.
 *
 * @param name  tensor name in the ONNX graph
 * @param role  what the engine uses it for ("sample", "timestep", "prediction", ...); for inputs
 *              without an explicit role this is the tensor name; null for outputs the engine ignores
 * @param type  element type
 * @param shape dimensions, fixed or dynamic
 */
public record TensorDecl(String name, String role, ElementType type, List<Dim> shape) {

    public TensorDecl {
        shape = List.copyOf(shape);
    }

    public int rank() {
        return shape.size();
    }

    /** The size of dimension {@code i} when fixed; empty when dynamic or out of range. */
    public OptionalLong fixedDim(int i) {
        if (i < 0 || i >= shape.size() || shape.get(i).isDynamic()) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(shape.get(i).size());
    }

    /** The shape as text, e.g. [batch,3,64,64]. */
    public String shapeText() {
        return shape.stream().map(Dim::toString).collect(Collectors.joining(",", "[", "]"));
    }
}
