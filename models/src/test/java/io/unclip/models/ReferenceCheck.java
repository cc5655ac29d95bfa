package io.unclip.models;

import com.fasterxml.jackson.databind.JsonNode;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads a stage's {@code reference.json} (written by models/training/export_onnx.py and export_extra.py; format in
 * the export_extra.py docstring) and checks a model output against it. Port of models/training/VerifyReference.java.
 *
 * <p>Inputs: float tensors by the exact float32 formula {@code ((sum_j a_j * i_j) mod 17) / 8 - 1} with the
 * multipliers {@code a} in {@code input_pattern}; integer tensors literally in {@code values}. Output: either every
 * value ({@code output_values}) or [c, y0:y1, x0:x1] windows of image 0 ({@code output_slices}) plus
 * {@code output_sum} / {@code output_abs_sum} over the whole tensor.
 */
final class ReferenceCheck {
    /** Absolute tolerance on recorded values (the file's {@code tolerance}, else this). */
    static final double VALUE_TOLERANCE = 1e-4;
    /** Relative tolerance on the sums; the signed sum is compared relative to the absolute sum (it cancels). */
    static final double SUM_TOLERANCE = 1e-5;

    private ReferenceCheck() {
    }

    static float[] pattern(long[] shape, long[] mult) {
        if (shape.length != mult.length) {
            throw new IllegalArgumentException("input_pattern has " + mult.length + " multipliers for rank " + shape.length);
        }
        int n = Math.toIntExact(Tensor.elementCount(shape));
        float[] f = new float[n];
        long[] idx = new long[shape.length];
        for (int k = 0; k < n; k++) {
            long acc = 0;
            for (int j = 0; j < shape.length; j++) {
                acc += mult[j] * idx[j];
            }
            f[k] = (float) (acc % 17) / 8.0f - 1.0f;
            for (int j = shape.length - 1; j >= 0; j--) {
                if (++idx[j] < shape[j]) {
                    break;
                }
                idx[j] = 0;
            }
        }
        return f;
    }

    /** The fixed input of the reference, by graph tensor name. */
    static ModelInputs inputs(JsonNode ref) {
        ModelInputs in = ModelInputs.create();
        for (Iterator<Map.Entry<String, JsonNode>> it = ref.get("inputs").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            long[] shape = longs(e.getValue().get("shape"));
            if (e.getValue().has("input_pattern")) {
                in.put(e.getKey(), Tensor.of(pattern(shape, longs(e.getValue().get("input_pattern"))), shape));
            } else {
                long[] values = longs(e.getValue().get("values"));
                if (values.length != Tensor.elementCount(shape)) {
                    throw new IllegalArgumentException(e.getKey() + ": " + values.length + " values for shape "
                            + java.util.Arrays.toString(shape));
                }
                in.put(e.getKey(), values, shape);
            }
        }
        return in;
    }

    static String outputName(JsonNode ref) {
        return ref.get("output").asText();
    }

    /** Everything in which {@code out} differs from the reference; empty when it reproduces it. */
    static List<String> check(JsonNode ref, Tensor out) {
        List<String> problems = new ArrayList<>();
        long[] shape = longs(ref.get("output_shape"));
        if (!java.util.Arrays.equals(shape, out.shape())) {
            problems.add("output shape " + java.util.Arrays.toString(out.shape()) + ", reference "
                    + java.util.Arrays.toString(shape));
            return problems;
        }
        double tol = ref.has("tolerance") ? ref.get("tolerance").asDouble() : VALUE_TOLERANCE;
        float[] y = out.toArray();
        if (ref.has("output_values")) {
            JsonNode v = ref.get("output_values");
            if (v.size() != y.length) {
                problems.add(v.size() + " reference values for " + y.length + " outputs");
                return problems;
            }
            for (int i = 0; i < y.length; i++) {
                compare(problems, "value " + i, v.get(i).asDouble(), y[i], tol);
            }
        } else {
            int h = (int) shape[2];
            int w = (int) shape[3];
            for (JsonNode s : ref.get("output_slices")) {
                int c = s.get("c").asInt();
                int y0 = s.get("y").get(0).asInt(), y1 = s.get("y").get(1).asInt();
                int x0 = s.get("x").get(0).asInt(), x1 = s.get("x").get(1).asInt();
                JsonNode v = s.get("values");
                if (v.size() != (y1 - y0) * (x1 - x0)) {
                    problems.add("slice c" + c + ": " + v.size() + " values for its window");
                    continue;
                }
                int k = 0;
                for (int yy = y0; yy < y1; yy++) {
                    for (int xx = x0; xx < x1; xx++) {
                        compare(problems, "slice c" + c + " [" + yy + "," + xx + "]", v.get(k++).asDouble(),
                                y[(c * h + yy) * w + xx], tol);
                    }
                }
            }
            double sum = 0;
            double abs = 0;
            for (float f : y) {
                sum += f;
                abs += Math.abs(f);
            }
            double es = ref.get("output_sum").asDouble();
            double ea = ref.get("output_abs_sum").asDouble();
            double scale = Math.max(ea, 1e-9);
            if (!(Math.abs(abs - ea) <= SUM_TOLERANCE * scale)) {
                problems.add(String.format("abs sum %.6f, reference %.6f (rel err %.2e)", abs, ea,
                        Math.abs(abs - ea) / scale));
            }
            if (!(Math.abs(sum - es) <= SUM_TOLERANCE * scale)) {
                problems.add(String.format("sum %.6f, reference %.6f (err %.2e of the abs sum)", sum, es,
                        Math.abs(sum - es) / scale));
            }
        }
        return problems;
    }

    /** Largest absolute difference over the recorded values (slices or full output). */
    static double maxAbsError(JsonNode ref, Tensor out) {
        float[] y = out.toArray();
        double max = 0;
        if (ref.has("output_values")) {
            JsonNode v = ref.get("output_values");
            for (int i = 0; i < Math.min(v.size(), y.length); i++) {
                max = Math.max(max, Math.abs(v.get(i).asDouble() - y[i]));
            }
        } else {
            long[] shape = out.shape();
            int h = (int) shape[2];
            int w = (int) shape[3];
            for (JsonNode s : ref.get("output_slices")) {
                int c = s.get("c").asInt();
                int k = 0;
                for (int yy = s.get("y").get(0).asInt(); yy < s.get("y").get(1).asInt(); yy++) {
                    for (int xx = s.get("x").get(0).asInt(); xx < s.get("x").get(1).asInt(); xx++) {
                        max = Math.max(max, Math.abs(s.get("values").get(k++).asDouble() - y[(c * h + yy) * w + xx]));
                    }
                }
            }
        }
        return max;
    }

    private static void compare(List<String> problems, String what, double expected, float actual, double tol) {
        if (!(Math.abs(expected - actual) <= tol)) { // also catches NaN
            problems.add(what + ": " + actual + ", reference " + expected);
        }
    }

    static long[] longs(JsonNode array) {
        long[] r = new long[array.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = array.get(i).asLong();
        }
        return r;
    }
}
