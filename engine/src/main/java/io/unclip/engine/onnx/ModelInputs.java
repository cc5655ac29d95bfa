package io.unclip.engine.onnx;

import io.unclip.engine.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The named inputs of one {@link ModelSession#run(ModelInputs)} call. Not thread-safe. */
public final class ModelInputs {
    private final Map<String, Tensor> floats = new LinkedHashMap<>();
    private final Map<String, LongTensor> integers = new LinkedHashMap<>();

    public static ModelInputs create() {
        return new ModelInputs();
    }

    public ModelInputs put(String name, Tensor value) {
        checkNew(name);
        floats.put(name, value);
        return this;
    }

    public ModelInputs put(String name, LongTensor value) {
        checkNew(name);
        integers.put(name, value);
        return this;
    }

    /** Integer input with an explicit shape, e.g. token ids {@code [batch, length]}. */
    public ModelInputs put(String name, long[] values, long... shape) {
        return put(name, new LongTensor(values, shape));
    }

    public Map<String, Tensor> floats() {
        return Collections.unmodifiableMap(floats);
    }

    public Map<String, LongTensor> integers() {
        return Collections.unmodifiableMap(integers);
    }

    private void checkNew(String name) {
        if (floats.containsKey(name) || integers.containsKey(name)) {
            throw new IllegalArgumentException("input '" + name + "' given twice");
        }
    }
}
