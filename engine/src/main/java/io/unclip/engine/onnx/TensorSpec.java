package io.unclip.engine.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A model input or output as the ONNX session describes it.
 *
 * @param name     tensor name in the graph
 * @param type     element type
 * @param shape    dimensions; -1 where the dimension is dynamic
 * @param dimNames symbolic names of dynamic dimensions ("batch"), empty strings where none
 */
public record TensorSpec(String name, ElementType type, long[] shape, String[] dimNames) {

    public TensorSpec {
        shape = shape.clone();
        dimNames = dimNames == null ? new String[shape.length] : dimNames.clone();
        if (dimNames.length != shape.length) {
            throw new IllegalArgumentException("dimension names " + Arrays.toString(dimNames)
                    + " do not match shape " + Arrays.toString(shape));
        }
        for (int i = 0; i < dimNames.length; i++) {
            if (dimNames[i] == null) {
                dimNames[i] = "";
            }
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public String[] dimNames() {
        return dimNames.clone();
    }

    public int rank() {
        return shape.length;
    }

    public boolean isDynamic(int dim) {
        return shape[dim] < 0;
    }

    /** Shape as text, dynamic dimensions by name where the model names them: [batch,3,64,64]. */
    public String shapeText() {
        List<String> parts = new ArrayList<>(shape.length);
        for (int i = 0; i < shape.length; i++) {
            parts.add(shape[i] >= 0 ? Long.toString(shape[i])
                    : dimNames[i].isEmpty() ? "-1" : dimNames[i]);
        }
        return "[" + String.join(",", parts) + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && name.equals(t.name) && type == t.type
                && Arrays.equals(shape, t.shape) && Arrays.equals(dimNames, t.dimNames);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + ":" + type.id() + shapeText();
    }
}
