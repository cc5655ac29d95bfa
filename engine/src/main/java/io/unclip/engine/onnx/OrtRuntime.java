package io.unclip.engine.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Owns ONNX Runtime for the engine: one session per model file, created on first use and
 * reused, all closed by {@link #close()}.
 *
 * <p>CUDA is requested with {@code SessionOptions.addCUDA}; ONNX Runtime cannot tell in advance
 * whether a GPU is usable ({@code getAvailableProviders()} lists CUDA even without one), so the
 * attempt itself is the probe. When it fails, this runtime logs one warning and uses the CPU for
 * this and every later session.
 */
public final class OrtRuntime implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OrtRuntime.class.getName());

    private final OrtEnvironment env;
    private final RuntimeOptions options;
    private final Map<Path, ModelSession> sessions = new LinkedHashMap<>(); // guarded by this
    private boolean cudaFailed; // guarded by this
    private boolean closed; // guarded by this

    public OrtRuntime(RuntimeOptions options) {
        this.options = options;
        // The environment is a process-wide singleton shared with any other ONNX Runtime user in
        // the JVM, so this class never closes it; it only owns its sessions.
        this.env = OrtEnvironment.getEnvironment();
    }

    /** A CPU runtime with default options. */
    public static OrtRuntime cpu() {
        return new OrtRuntime(RuntimeOptions.defaults());
    }

    public RuntimeOptions options() {
        return options;
    }

    /** The ONNX Runtime library version. */
    public String version() {
        return env.getVersion();
    }

    /**
     * The device new sessions run on: the requested one, or CPU once a CUDA attempt has failed.
     * Each {@link ModelSession#device()} says where that session actually runs.
     */
    public synchronized Device device() {
        return options.device() == Device.CUDA && !cudaFailed ? Device.CUDA : Device.CPU;
    }

    /**
     * The session for {@code onnxFile}, created on first request. Later requests for the same
     * file (by real path) return the same session, whatever name they give.
     *
     * @param modelName name used in error messages and logs, e.g. the stage name
     * @throws InferenceException if the file is missing, unreadable or not a loadable model
     */
    public synchronized ModelSession session(String modelName, Path onnxFile) {
        if (closed) {
            throw new IllegalStateException("ONNX runtime is closed");
        }
        if (!Files.isRegularFile(onnxFile)) {
            throw new ModelLoadException(modelName, onnxFile, "file not found (" + onnxFile + ")", null);
        }
        if (!Files.isReadable(onnxFile)) {
            throw new ModelLoadException(modelName, onnxFile, "file is not readable (" + onnxFile + ")", null);
        }
        Path key;
        try {
            key = onnxFile.toRealPath();
        } catch (java.io.IOException e) {
            throw new ModelLoadException(modelName, onnxFile, "cannot resolve path: " + e.getMessage(), e);
        }
        ModelSession existing = sessions.get(key);
        if (existing != null) {
            return existing;
        }
        ModelSession created = open(modelName, key);
        sessions.put(key, created);
        return created;
    }

    /**
     * Closes a session and forgets it, so the next request for its file opens the file again
     * (e.g. after a model failed validation and was replaced). Runs in flight finish first.
     */
    public synchronized void release(ModelSession session) {
        if (sessions.values().remove(session)) {
            session.close();
        }
    }

    /** Whether a session for this file (by real path) is open. */
    public synchronized boolean isOpen(Path onnxFile) {
        try {
            return Files.exists(onnxFile) && sessions.containsKey(onnxFile.toRealPath());
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** Sessions opened so far, in opening order. */
    public synchronized List<ModelSession> sessions() {
        return List.copyOf(sessions.values());
    }

    private ModelSession open(String modelName, Path file) {
        if (device() == Device.CUDA) {
            try {
                return create(modelName, file, true);
            } catch (CudaUnavailable e) {
                fallBackToCpu(e.getMessage());
            } catch (OrtException cudaError) {
                // Session creation failed with CUDA enabled: the model may be broken, or the GPU
                // unusable (e.g. libraries present, device absent). Retry on CPU to tell which.
                ModelSession onCpu = openOnCpu(modelName, file);
                fallBackToCpu("creating a CUDA session for " + modelName + " failed: " + firstLine(cudaError));
                return onCpu;
            }
        }
        return openOnCpu(modelName, file);
    }

    private ModelSession openOnCpu(String modelName, Path file) {
        try {
            return create(modelName, file, false);
        } catch (OrtException e) {
            String reason = e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_PROTOBUF
                    ? "file is truncated or not an ONNX model (" + firstLine(e) + ")" : firstLine(e);
            throw new ModelLoadException(modelName, file, reason, e);
        } catch (CudaUnavailable e) {
            throw new AssertionError("CUDA not requested", e);
        }
    }

    private ModelSession create(String modelName, Path file, boolean cuda) throws OrtException, CudaUnavailable {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            configure(options, SessionSettings.of(so));
            if (cuda) {
                try {
                    so.addCUDA(options.deviceId());
                } catch (OrtException e) {
                    throw new CudaUnavailable("CUDA execution provider for device " + options.deviceId()
                            + " could not be added: " + firstLine(e));
                }
            }
            OrtSession session = env.createSession(file.toString(), so);
            try {
                return new ModelSession(modelName, file, env, session, cuda ? Device.CUDA : Device.CPU,
                        options.costModel());
            } catch (RuntimeException e) {
                session.close();
                throw e;
            }
        }
    }

    /**
     * What a session's options take from {@code options}; thread counts of 0 are left unset, so
     * ONNX Runtime picks its own (one intra-op thread per physical core).
     */
    static void configure(RuntimeOptions options, SessionSettings target) throws OrtException {
        target.optimization(options.optimization().ortLevel());
        if (options.intraOpThreads() > 0) {
            target.intraOpThreads(options.intraOpThreads());
        }
        if (options.interOpThreads() > 0) {
            target.interOpThreads(options.interOpThreads());
        }
        target.deterministic(options.deterministic());
    }

    /** The session settings {@link #configure} writes: SessionOptions has setters only, so tests record them here. */
    interface SessionSettings {
        void optimization(OrtSession.SessionOptions.OptLevel level) throws OrtException;

        void intraOpThreads(int threads) throws OrtException;

        void interOpThreads(int threads) throws OrtException;

        void deterministic(boolean on) throws OrtException;

        static SessionSettings of(OrtSession.SessionOptions so) {
            return new SessionSettings() {
                @Override
                public void optimization(OrtSession.SessionOptions.OptLevel level) throws OrtException {
                    so.setOptimizationLevel(level);
                }

                @Override
                public void intraOpThreads(int threads) throws OrtException {
                    so.setIntraOpNumThreads(threads);
                }

                @Override
                public void interOpThreads(int threads) throws OrtException {
                    so.setInterOpNumThreads(threads);
                }

                @Override
                public void deterministic(boolean on) throws OrtException {
                    so.setDeterministicCompute(on);
                }
            };
        }
    }

    private void fallBackToCpu(String reason) {
        if (!cudaFailed) {
            cudaFailed = true;
            LOG.log(Level.WARNING, "CUDA requested (" + options.deviceSpec() + ") but unavailable, running ONNX"
                    + " models on CPU instead: " + reason);
        }
    }

    /** Closes every session. The runtime cannot be used afterwards. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<RuntimeException> failures = new ArrayList<>();
        for (ModelSession s : sessions.values()) {
            try {
                s.close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        sessions.clear();
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.stream().skip(1).forEach(first::addSuppressed);
            throw first;
        }
    }

    private static String firstLine(Exception e) {
        String m = String.valueOf(e.getMessage()).strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** addCUDA itself failed: the CUDA provider or its libraries are missing. */
    private static final class CudaUnavailable extends Exception {
        CudaUnavailable(String message) {
            super(message);
        }
    }
}
