package io.unclip.engine.onnx;

import io.unclip.engine.tensor.Tensor;
import java.util.Arrays;

/**
 * Integer model input (token ids, masks, timesteps) with an explicit shape. ModelSession
 * converts it to the element type the model declares (int64, int32 or bool).
 */
public record LongTensor(long[] data, long[] shape) {

    public LongTensor {
        data = data.clone();
        shape = shape.clone();
        if (Tensor.elementCount(shape) != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs "
                    + Tensor.elementCount(shape) + " values, got " + data.length);
        }
    }

    /** A rank-1 tensor, e.g. one timestep per batch item. */
    public static LongTensor vector(long... values) {
        return new LongTensor(values, new long[] {values.length});
    }

    @Override
    public long[] data() {
        return data.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    long[] dataRef() {
        return data;
    }

    long[] shapeRef() {
        return shape;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LongTensor t && Arrays.equals(data, t.data) && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data) * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "LongTensor" + Arrays.toString(shape);
    }
}
