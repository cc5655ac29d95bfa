package io.unclip.engine.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A dense float32 tensor in row-major order, backed by a direct native-order buffer so that
 * ONNX Runtime can read it without a copy ({@code OnnxTensor.createTensor(env, buffer, shape)}).
 *
 * <p>The class is deliberately small: shape bookkeeping plus bulk access. Element-wise maths
 * lives with the code that needs it (samplers work on the backing buffer directly).
 */
public final class Tensor {
    private final long[] shape;
    private final FloatBuffer data;

    private Tensor(long[] shape, FloatBuffer data) {
        this.shape = shape;
        this.data = data;
    }

    /** A zero-filled tensor of the given shape. */
    public static Tensor zeros(long... shape) {
        long n = elementCount(shape);
        if (n > Integer.MAX_VALUE / Float.BYTES) {
            throw new IllegalArgumentException("tensor too large: " + Arrays.toString(shape));
        }
        FloatBuffer buf = ByteBuffer.allocateDirect((int) n * Float.BYTES)
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        return new Tensor(shape.clone(), buf);
    }

    /** A tensor holding a copy of {@code values}. */
    public static Tensor of(float[] values, long... shape) {
        Tensor t = zeros(shape);
        if (values.length != t.size()) {
            throw new IllegalArgumentException("expected " + t.size() + " values for shape "
                    + Arrays.toString(shape) + ", got " + values.length);
        }
        t.data.put(0, values);
        return t;
    }

    /** Wraps an existing direct buffer (e.g. an ONNX Runtime output) without copying. */
    public static Tensor wrap(FloatBuffer buffer, long... shape) {
        if (buffer.capacity() != elementCount(shape)) {
            throw new IllegalArgumentException("buffer holds " + buffer.capacity()
                    + " floats, shape " + Arrays.toString(shape) + " needs " + elementCount(shape));
        }
        return new Tensor(shape.clone(), buffer);
    }

    public static long elementCount(long... shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long[] shape() {
        return shape.clone();
    }

    public long dim(int i) {
        return shape[i];
    }

    public int rank() {
        return shape.length;
    }

    /** Number of elements. */
    public int size() {
        return data.capacity();
    }

    /** The backing buffer (position 0, absolute indexing); shared, not copied. */
    public FloatBuffer buffer() {
        return data;
    }

    public float get(int i) {
        return data.get(i);
    }

    public void set(int i, float v) {
        data.put(i, v);
    }

    /** A heap copy of the elements. */
    public float[] toArray() {
        float[] out = new float[size()];
        data.get(0, out);
        return out;
    }

    /** A deep copy with its own buffer. */
    public Tensor copy() {
        Tensor t = zeros(shape);
        t.data.put(0, data, 0, size());
        return t;
    }

    /** Elements per item of the leading (batch) axis. */
    public int itemSize() {
        return shape.length == 0 ? 1 : (int) (size() / Math.max(1, shape[0]));
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
