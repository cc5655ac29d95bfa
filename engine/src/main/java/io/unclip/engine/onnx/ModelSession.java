package io.unclip.engine.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.unclip.engine.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One loaded ONNX model. Created and closed by {@link OrtRuntime}; safe to run from several
 * threads at once (ONNX Runtime sessions are thread-safe).
 *
 * <p>Float inputs are handed to ONNX Runtime without a copy (the {@link Tensor}'s direct buffer);
 * outputs are copied into fresh tensors before the native values are released, or written in
 * place by {@link #runInto}. Time spent inside {@code OrtSession.run} is summed in
 * {@link #ortNanos()} so that callers can tell runtime cost from their own overhead.
 */
public final class ModelSession {
    private final String name;
    private final Path file;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final Device device;
    private final CostModel costModel; // null: ONNX Runtime runs the calls
    private final Map<String, TensorSpec> inputs;
    private final Map<String, TensorSpec> outputs;
    private final LongAdder runs = new LongAdder();
    private final LongAdder ortNanos = new LongAdder();
    // Runs share the read lock; close takes the write lock so it never frees a session mid-run.
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    ModelSession(String name, Path file, OrtEnvironment env, OrtSession session, Device device, CostModel costModel) {
        this.name = name;
        this.costModel = costModel;
        this.file = file;
        this.env = env;
        this.session = session;
        this.device = device;
        try {
            this.inputs = specs(session.getInputInfo(), "input");
            this.outputs = specs(session.getOutputInfo(), "output");
        } catch (OrtException e) {
            throw new InferenceException(name + ": cannot read tensor metadata of " + file.getFileName()
                    + ": " + e.getMessage(), e);
        }
    }

    /** The model's name (the stage name when loaded from a bundle). */
    public String name() {
        return name;
    }

    public Path file() {
        return file;
    }

    /** The device this session actually runs on (CPU after a CUDA fallback). */
    public Device device() {
        return device;
    }

    /** Inputs in graph order, as read from the session. */
    public Map<String, TensorSpec> inputs() {
        return inputs;
    }

    /** Outputs in graph order, as read from the session. */
    public Map<String, TensorSpec> outputs() {
        return outputs;
    }

    public TensorSpec input(String inputName) {
        TensorSpec spec = inputs.get(inputName);
        if (spec == null) {
            throw new InferenceException(name + ": unknown input '" + inputName + "'; model inputs are "
                    + inputs.keySet());
        }
        return spec;
    }

    /** Number of completed runs. */
    public long runCount() {
        return runs.sum();
    }

    /** Total nanoseconds spent inside {@code OrtSession.run} over all completed runs. */
    public long ortNanos() {
        return ortNanos.sum();
    }

    /**
     * Runs the model. Integer inputs get their shape from the model: the one dynamic dimension
     * (usually the batch) is inferred from the number of values; inputs with several dynamic
     * dimensions need {@link #run(ModelInputs)} with an explicit shape.
     *
     * @return every output, copied into a new tensor, by name
     */
    public Map<String, Tensor> run(Map<String, Tensor> floatInputs, Map<String, long[]> int64Inputs) {
        ModelInputs in = ModelInputs.create();
        floatInputs.forEach(in::put);
        int64Inputs.forEach((n, values) -> in.put(n, new LongTensor(values, inferShape(input(n), values.length))));
        return run(in);
    }

    /** Runs the model; returns every output, copied into a new tensor, by name. */
    public Map<String, Tensor> run(ModelInputs in) {
        return execute(in, null);
    }

    /**
     * Runs the model writing outputs straight into the given tensors (no output copy); their
     * shapes must be exactly what the model produces. Outputs not named are still computed.
     */
    public void runInto(ModelInputs in, Map<String, Tensor> outputsInPlace) {
        if (outputsInPlace.isEmpty()) {
            throw new IllegalArgumentException(name + ": runInto needs at least one output tensor");
        }
        execute(in, outputsInPlace);
    }

    private Map<String, Tensor> execute(ModelInputs in, Map<String, Tensor> pinned) {
        lock.readLock().lock();
        List<OnnxTensor> created = new ArrayList<>();
        try {
            if (closed) {
                throw new IllegalStateException(name + ": session is closed");
            }
            checkInputNames(in);
            if (costModel != null) { // no ONNX Runtime tensors: the cost model reads only the batch
                long start = System.nanoTime();
                Map<String, Tensor> out = costModel.execute(name, batchOf(in), outputs, pinned);
                ortNanos.add(System.nanoTime() - start);
                runs.increment();
                return out;
            }
            Map<String, OnnxTensor> feed = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : in.floats().entrySet()) {
                OnnxTensor t = floatTensor(inputs.get(e.getKey()), e.getValue(), "input");
                created.add(t);
                feed.put(e.getKey(), t);
            }
            for (Map.Entry<String, LongTensor> e : in.integers().entrySet()) {
                OnnxTensor t = integerTensor(inputs.get(e.getKey()), e.getValue());
                created.add(t);
                feed.put(e.getKey(), t);
            }
            Map<String, OnnxTensor> pinnedOrt = new LinkedHashMap<>();
            if (pinned != null) {
                for (Map.Entry<String, Tensor> e : pinned.entrySet()) {
                    TensorSpec spec = outputs.get(e.getKey());
                    if (spec == null) {
                        throw new InferenceException(name + ": unknown output '" + e.getKey()
                                + "'; model outputs are " + outputs.keySet());
                    }
                    if (!e.getValue().buffer().isDirect()) {
                        throw new InferenceException(name + ": output '" + e.getKey()
                                + "' must be backed by a direct buffer to be written in place");
                    }
                    OnnxTensor t = floatTensor(spec, e.getValue(), "output");
                    created.add(t);
                    pinnedOrt.put(e.getKey(), t);
                }
            }
            long start = System.nanoTime();
            try (OrtSession.Result result = pinned == null ? session.run(feed) : session.run(feed, pinnedOrt)) {
                ortNanos.add(System.nanoTime() - start);
                runs.increment();
                return pinned == null ? copyOutputs(result) : pinned;
            }
        } catch (OrtException e) {
            throw new InferenceException(name + ": run failed: " + e.getMessage(), e);
        } finally {
            created.forEach(OnnxTensor::close);
            lock.readLock().unlock();
        }
    }

    /** The batch of a call: the largest leading dimension of its inputs (a timestep may be a scalar). */
    private static int batchOf(ModelInputs in) {
        long batch = 1;
        for (Tensor t : in.floats().values()) {
            batch = t.rank() > 0 ? Math.max(batch, t.dim(0)) : batch;
        }
        for (LongTensor t : in.integers().values()) {
            batch = t.shape().length > 0 ? Math.max(batch, t.shape()[0]) : batch;
        }
        return (int) batch;
    }

    private void checkInputNames(ModelInputs in) {
        List<String> unknown = new ArrayList<>();
        for (String n : concat(in.floats().keySet(), in.integers().keySet())) {
            if (!inputs.containsKey(n)) {
                unknown.add(n);
            }
        }
        if (!unknown.isEmpty()) {
            throw new InferenceException(name + ": unknown input(s) " + unknown + "; model inputs are "
                    + inputs.keySet());
        }
        List<String> missing = new ArrayList<>();
        for (String n : inputs.keySet()) {
            if (!in.floats().containsKey(n) && !in.integers().containsKey(n)) {
                missing.add(n);
            }
        }
        if (!missing.isEmpty()) {
            throw new InferenceException(name + ": missing input(s) " + missing + "; model inputs are "
                    + inputs.keySet());
        }
    }

    private OnnxTensor floatTensor(TensorSpec spec, Tensor value, String kind) throws OrtException {
        if (spec.type() != ElementType.FLOAT32) {
            throw new InferenceException(name + ": " + kind + " '" + spec.name() + "' is " + spec.type()
                    + " in the model, got a float32 tensor");
        }
        checkShape(spec, value.shape(), kind);
        return OnnxTensor.createTensor(env, value.buffer(), value.shape());
    }

    private OnnxTensor integerTensor(TensorSpec spec, LongTensor value) throws OrtException {
        checkShape(spec, value.shapeRef(), "input");
        long[] data = value.dataRef();
        switch (spec.type()) {
            case INT64: {
                LongBuffer b = direct(data.length * Long.BYTES).asLongBuffer();
                b.put(data).rewind();
                return OnnxTensor.createTensor(env, b, value.shapeRef());
            }
            case INT32: {
                IntBuffer b = direct(data.length * Integer.BYTES).asIntBuffer();
                for (long v : data) {
                    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                        throw new InferenceException(name + ": input '" + spec.name() + "' is int32 in the model, value "
                                + v + " does not fit");
                    }
                    b.put((int) v);
                }
                b.rewind();
                return OnnxTensor.createTensor(env, b, value.shapeRef());
            }
            case BOOL: {
                // masks arrive as 0/1 integers; any non-zero value is true
                ByteBuffer b = direct(data.length);
                for (long v : data) {
                    b.put((byte) (v != 0 ? 1 : 0));
                }
                b.rewind();
                return OnnxTensor.createTensor(env, b, value.shapeRef(), OnnxJavaType.BOOL);
            }
            default:
                throw new InferenceException(name + ": input '" + spec.name() + "' is " + spec.type()
                        + " in the model; integer values can feed int64, int32 or bool inputs only");
        }
    }

    private void checkShape(TensorSpec spec, long[] actual, String kind) {
        boolean ok = actual.length == spec.rank();
        for (int i = 0; ok && i < actual.length; i++) {
            ok = spec.isDynamic(i) || spec.shape()[i] == actual[i];
        }
        if (!ok) {
            throw new InferenceException(name + ": " + kind + " '" + spec.name() + "' has shape "
                    + shapeText(actual) + ", model expects " + spec.shapeText());
        }
    }

    private long[] inferShape(TensorSpec spec, int length) {
        long[] shape = spec.shape();
        int dynamic = -1;
        long fixed = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                if (dynamic >= 0) {
                    throw new InferenceException(name + ": input '" + spec.name() + "' has shape " + spec.shapeText()
                            + " with several dynamic dimensions; pass its shape explicitly (ModelInputs)");
                }
                dynamic = i;
            } else {
                fixed *= shape[i];
            }
        }
        if (dynamic < 0) {
            return shape; // checked against the value count by LongTensor
        }
        if (fixed == 0 || length % fixed != 0) {
            throw new InferenceException(name + ": input '" + spec.name() + "' has shape " + spec.shapeText()
                    + ", which " + length + " values cannot fill");
        }
        shape[dynamic] = length / fixed;
        return shape;
    }

    private Map<String, Tensor> copyOutputs(OrtSession.Result result) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, OnnxValue> e : result) {
            if (!(e.getValue() instanceof OnnxTensor t)) {
                throw new InferenceException(name + ": output '" + e.getKey() + "' is not a tensor");
            }
            TensorInfo info = t.getInfo();
            // getFloatBuffer converts float16/bfloat16 and returns null for non-float types
            FloatBuffer values = t.getFloatBuffer();
            if (values == null) {
                throw new InferenceException(name + ": output '" + e.getKey() + "' is "
                        + ElementType.of(info.onnxType) + "; ModelSession returns float outputs only");
            }
            Tensor copy = Tensor.zeros(info.getShape());
            copy.buffer().put(0, values, 0, copy.size());
            out.put(e.getKey(), copy);
        }
        return out;
    }

    void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                session.close();
            }
        } catch (OrtException e) {
            throw new InferenceException(name + ": closing the session failed: " + e.getMessage(), e);
        } finally {
            lock.writeLock().unlock();
        }
    }

    boolean isClosed() {
        lock.readLock().lock();
        try {
            return closed;
        } finally {
            lock.readLock().unlock();
        }
    }

    private Map<String, TensorSpec> specs(Map<String, NodeInfo> nodes, String kind) {
        Map<String, TensorSpec> specs = new LinkedHashMap<>();
        for (NodeInfo node : nodes.values()) {
            if (!(node.getInfo() instanceof TensorInfo info)) {
                throw new InferenceException(name + ": " + kind + " '" + node.getName() + "' of "
                        + file.getFileName() + " is " + node.getInfo() + ", not a tensor; only tensors are supported");
            }
            specs.put(node.getName(), new TensorSpec(node.getName(), ElementType.of(info.onnxType),
                    info.getShape(), info.getDimensionNames()));
        }
        return Collections.unmodifiableMap(specs);
    }

    private static ByteBuffer direct(int bytes) {
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }

    private static List<String> concat(java.util.Collection<String> a, java.util.Collection<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    static String shapeText(long[] shape) {
        return Arrays.toString(shape).replace(" ", "");
    }

    @Override
    public String toString() {
        return "ModelSession[" + name + ", " + file.getFileName() + ", " + device.id() + "]";
    }
}
