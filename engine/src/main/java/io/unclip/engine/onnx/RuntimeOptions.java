package io.unclip.engine.onnx;

/**
 * How {@link OrtRuntime} creates sessions. Thread counts of 0 let ONNX Runtime choose.
 *
 * @param device        requested device; CUDA falls back to CPU when it cannot be used
 * @param deviceId      CUDA device ordinal (ignored for CPU)
 * @param intraOpThreads threads inside one operator (0 = ONNX Runtime default)
 * @param interOpThreads threads across independent operators (0 = ONNX Runtime default)
 * @param optimization  graph optimisation level
 * @param deterministic ask execution providers for deterministic kernels (matters on CUDA)
 * @param costModel     null to run the models; else every call is answered by this
 *                      {@link CostModel} instead of ONNX Runtime (benchmarks of hardware not here)
 */
public record RuntimeOptions(Device device, int deviceId, int intraOpThreads, int interOpThreads,
                             GraphOptimization optimization, boolean deterministic, CostModel costModel) {

    public RuntimeOptions {
        if (device == null) {
            throw new IllegalArgumentException("device must not be null");
        }
        if (optimization == null) {
            throw new IllegalArgumentException("optimization must not be null");
        }
        if (deviceId < 0) {
            throw new IllegalArgumentException("device id must be >= 0, got " + deviceId);
        }
        if (intraOpThreads < 0 || interOpThreads < 0) {
            throw new IllegalArgumentException("thread counts must be >= 0, got intra-op "
                    + intraOpThreads + ", inter-op " + interOpThreads);
        }
    }

    /** CPU, ONNX Runtime's thread defaults, all graph optimisations. */
    public static RuntimeOptions defaults() {
        return new RuntimeOptions(Device.CPU, 0, 0, 0, GraphOptimization.ALL, false, null);
    }

    /** Parses a device spec: "cpu", "cuda" (device 0) or "cuda:N". */
    public RuntimeOptions withDevice(String spec) {
        String s = spec.trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("cpu")) {
            return withCpu();
        }
        if (s.equals("cuda")) {
            return withCuda(0);
        }
        if (s.startsWith("cuda:")) {
            try {
                return withCuda(Integer.parseInt(s.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("unknown device '" + spec + "', expected cpu, cuda or cuda:N");
    }

    public RuntimeOptions withCpu() {
        return new RuntimeOptions(Device.CPU, 0, intraOpThreads, interOpThreads, optimization, deterministic, costModel);
    }

    public RuntimeOptions withCuda(int id) {
        return new RuntimeOptions(Device.CUDA, id, intraOpThreads, interOpThreads, optimization, deterministic, costModel);
    }

    public RuntimeOptions withThreads(int intraOp, int interOp) {
        return new RuntimeOptions(device, deviceId, intraOp, interOp, optimization, deterministic, costModel);
    }

    public RuntimeOptions withOptimization(GraphOptimization level) {
        return new RuntimeOptions(device, deviceId, intraOpThreads, interOpThreads, level, deterministic, costModel);
    }

    public RuntimeOptions withDeterministic(boolean on) {
        return new RuntimeOptions(device, deviceId, intraOpThreads, interOpThreads, optimization, on, costModel);
    }

    /** Every model call answered by {@code model} (null: run the models). */
    public RuntimeOptions withCostModel(CostModel model) {
        return new RuntimeOptions(device, deviceId, intraOpThreads, interOpThreads, optimization, deterministic,
                model);
    }

    /** "cpu" or "cuda:N". */
    public String deviceSpec() {
        return device == Device.CPU ? "cpu" : "cuda:" + deviceId;
    }
}
