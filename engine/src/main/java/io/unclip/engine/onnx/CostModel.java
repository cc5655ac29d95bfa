package io.unclip.engine.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unclip.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Stands in for ONNX Runtime to show what the schedulers do on hardware that is not here: each
 * model call returns outputs of the model's real shapes (a fixed pattern, not a computation) and
 * takes the time a measured cost curve gives for its batch, interpolated between the measured
 * batch sizes. Every other part of the system runs unchanged.
 *
 * <p>Calls hold one device lock for their cost, since the stages of one process share one
 * accelerator and its calls run one after another. The cost is real time, not a simulated
 * clock: the Java work around the calls is measured with them; {@code dilation} stretches every
 * cost so that this work weighs less (figures are then divided back by it).
 */
public final class CostModel {
    /**
     * One model's calls so far: their rows, the time the curve charged, and the time the device
     * was actually held (a little more: waking up from a timed wait overshoots).
     */
    public record Usage(long calls, long rows, long chargedNanos, long heldNanos) {
    }

    private final String runtime;
    private final Map<String, TreeMap<Integer, Double>> msByBatch; // model -> batch -> ms per call
    private final double dilation;
    private final ReentrantLock device = new ReentrantLock(true);
    private final Map<String, long[]> usage = new ConcurrentHashMap<>();

    private CostModel(String runtime, Map<String, TreeMap<Integer, Double>> msByBatch, double dilation) {
        this.runtime = runtime;
        this.msByBatch = msByBatch;
        this.dilation = dilation;
    }

    /**
     * Reads a curve file: one JSON object a line with {@code runtime}, {@code stage} (the model's
     * name), {@code batch} and {@code ms_per_call}; only the lines of {@code runtime} are used.
     *
     * @throws IllegalArgumentException when the file has no such runtime, or a line is malformed
     */
    public static CostModel read(Path file, String runtime, double dilation) throws IOException {
        if (!(dilation >= 1 && dilation <= 1000)) {
            throw new IllegalArgumentException("cost dilation must be between 1 and 1000, got " + dilation);
        }
        ObjectMapper json = new ObjectMapper();
        Map<String, TreeMap<Integer, Double>> curves = new LinkedHashMap<>();
        TreeSet<String> runtimes = new TreeSet<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = json.readTree(lines.get(i));
            } catch (IOException e) {
                throw new IllegalArgumentException(file.getFileName() + " line " + (i + 1) + ": not JSON");
            }
            JsonNode rt = n.get("runtime");
            JsonNode stage = n.get("stage");
            JsonNode batch = n.get("batch");
            JsonNode ms = n.get("ms_per_call");
            if (rt == null || !rt.isTextual()) {
                throw new IllegalArgumentException(file.getFileName() + " line " + (i + 1) + ": no \"runtime\"");
            }
            runtimes.add(rt.asText());
            if (!rt.asText().equals(runtime) || stage == null || batch == null || ms == null) {
                continue; // other runtimes, and lines of other measurements (e.g. training steps)
            }
            if (!stage.isTextual() || !batch.canConvertToInt() || batch.asInt() < 1 || !ms.isNumber()
                    || !(ms.asDouble() >= 0)) {
                throw new IllegalArgumentException(file.getFileName() + " line " + (i + 1)
                        + ": expected \"stage\" text, \"batch\" >= 1 and \"ms_per_call\" >= 0");
            }
            curves.computeIfAbsent(stage.asText(), k -> new TreeMap<>()).put(batch.asInt(), ms.asDouble());
        }
        if (curves.isEmpty()) {
            throw new IllegalArgumentException("no cost curve for runtime '" + runtime + "' in " + file.getFileName()
                    + "; it has " + runtimes);
        }
        return new CostModel(runtime, curves, dilation);
    }

    public String runtime() {
        return runtime;
    }

    public double dilation() {
        return dilation;
    }

    /**
     * The curve's milliseconds for one call of {@code model} at {@code batch} rows (undilated):
     * linear between measured sizes, flat below the smallest, and along the last two points (never
     * below the last) above the largest.
     */
    public double ms(String model, int batch) {
        TreeMap<Integer, Double> curve = msByBatch.get(model);
        if (curve == null) {
            throw new InferenceException(model + ": the cost curve of runtime '" + runtime + "' has no stage '"
                    + model + "'; it has " + msByBatch.keySet());
        }
        Map.Entry<Integer, Double> lo = curve.floorEntry(batch);
        Map.Entry<Integer, Double> hi = curve.ceilingEntry(batch);
        if (lo == null) {
            return hi.getValue();
        }
        if (hi == null) {
            Map.Entry<Integer, Double> before = curve.lowerEntry(lo.getKey());
            if (before == null) {
                return lo.getValue();
            }
            double slope = (lo.getValue() - before.getValue()) / (lo.getKey() - before.getKey());
            return Math.max(lo.getValue(), lo.getValue() + slope * (batch - lo.getKey()));
        }
        if (lo.getKey().equals(hi.getKey())) {
            return lo.getValue();
        }
        double f = (double) (batch - lo.getKey()) / (hi.getKey() - lo.getKey());
        return lo.getValue() + f * (hi.getValue() - lo.getValue());
    }

    /** Usage by model since this cost model was made. */
    public Map<String, Usage> usage() {
        Map<String, Usage> out = new TreeMap<>();
        usage.forEach((m, u) -> {
            synchronized (u) {
                out.put(m, new Usage(u[0], u[1], u[2], u[3]));
            }
        });
        return out;
    }

    /** One model call: waits for the device, holds it for the call's cost, returns the outputs. */
    Map<String, Tensor> execute(String model, int batch, Map<String, TensorSpec> outputs,
                                Map<String, Tensor> pinned) {
        long nanos = Math.round(ms(model, batch) * dilation * 1e6);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (TensorSpec spec : outputs.values()) {
            Tensor t = pinned != null && pinned.containsKey(spec.name()) ? pinned.get(spec.name())
                    : Tensor.zeros(shape(model, spec, batch));
            if (pinned == null || pinned.containsKey(spec.name())) {
                fill(t);
                out.put(spec.name(), t);
            }
        }
        long held;
        device.lock();
        try {
            long start = System.nanoTime();
            hold(nanos);
            held = System.nanoTime() - start;
        } finally {
            device.unlock();
        }
        long[] u = usage.computeIfAbsent(model, k -> new long[4]);
        synchronized (u) {
            u[0]++;
            u[1] += batch;
            u[2] += nanos;
            u[3] += held;
        }
        return out;
    }

    private static long[] shape(String model, TensorSpec spec, int batch) {
        long[] shape = spec.shape().clone();
        List<String> unknown = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            if (spec.isDynamic(d)) {
                if (d == 0) {
                    shape[d] = batch;
                } else {
                    unknown.add(spec.dimNames()[d]);
                }
            }
        }
        if (!unknown.isEmpty()) {
            throw new InferenceException(model + ": the cost model cannot shape output '" + spec.name()
                    + "': dynamic dimensions " + unknown + " besides the batch");
        }
        return shape;
    }

    /**
     * A fixed small pattern: finite, and with a non-zero norm (embeddings are normalised). An
     * output reused between calls (written in place) already holds it, and refilling a 512-px
     * batch every step would cost more than the call it stands in for.
     */
    private static void fill(Tensor t) {
        FloatBuffer b = t.buffer();
        int n = b.capacity();
        if (n > 1 && b.get(0) == pattern(0) && b.get(n - 1) == pattern(n - 1)) {
            return; // filled before (a reused buffer grows from its start: the prefix is whole)
        }
        for (int i = 0; i < n; i++) {
            b.put(i, pattern(i));
        }
    }

    private static float pattern(int i) {
        return 0.01f * ((i % 7) - 3);
    }

    /** Sleeps most of the time, spins the last tenth of a millisecond (a park overshoots by ~60 µs). */
    private static void hold(long nanos) {
        long until = System.nanoTime() + nanos;
        long left;
        while ((left = until - System.nanoTime()) > 150_000) {
            LockSupport.parkNanos(left - 100_000);
        }
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }
}
