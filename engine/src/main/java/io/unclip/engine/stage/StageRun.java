package io.unclip.engine.stage;

import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.model.TensorDecl;
import io.unclip.engine.onnx.ElementType;
import io.unclip.engine.onnx.LongTensor;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.onnx.ModelSession;
import io.unclip.engine.tensor.Tensor;
import java.util.Map;

/** One run of a stage: events, cancellation, model calls and timings. Not thread-safe. */
final class StageRun {
    private final LoadedStage stage;
    private final int cascadeStep;
    private final RunContext ctx;
    private final ModelSession session;
    private final long wallStart;
    private final long ortStart;
    private int calls;

    private StageRun(LoadedStage stage, int cascadeStep, RunContext ctx) {
        this.stage = stage;
        this.cascadeStep = cascadeStep;
        this.ctx = ctx;
        this.session = stage.session();
        this.wallStart = System.nanoTime();
        this.ortStart = stage.ortNanos();
    }

    static StageRun start(LoadedStage stage, int cascadeStep, RunContext ctx, int totalSteps, int rows) {
        StageRun run = new StageRun(stage, cascadeStep, ctx);
        ctx.listener().stageStarted(new StageStarted(stage.name(), stage.kind(), cascadeStep, totalSteps, rows));
        return run;
    }

    RunContext context() {
        return ctx;
    }

    int modelCalls() {
        return calls;
    }

    void checkCancelled(int completed, int total) {
        if (ctx.cancelled()) {
            throw new SamplingCancelledException(completed, total);
        }
    }

    Map<String, Tensor> call(ModelInputs in) {
        Map<String, Tensor> out = session.run(in);
        calls++;
        return out;
    }

    /** Runs the model writing output {@code name} into {@code out} (reused between steps: no copy). */
    void callInto(ModelInputs in, String name, Tensor out) {
        session.runInto(in, Map.of(name, out));
        calls++;
    }

    /** Counts model calls made on this run's behalf elsewhere (by its step scheduler). */
    void countCalls(int n) {
        calls += n;
    }

    void progress(int step, int total, Tensor preview) {
        ctx.listener().progress(new StageProgress(stage.name(), stage.kind(), cascadeStep, step, total, preview));
    }

    StageTimings finish(int steps) {
        StageTimings t = new StageTimings(stage.name(), stage.kind(), cascadeStep, steps, calls,
                System.nanoTime() - wallStart, stage.ortNanos() - ortStart);
        ctx.listener().stageFinished(t);
        return t;
    }

    // ---- feeding inputs by role ----

    /** Puts a float value for the input with {@code role}. */
    static void put(ModelInputs in, StageManifest m, String role, Tensor value) {
        TensorDecl d = m.inputForRole(role).orElseThrow(() -> new IllegalStateException(m.stage()
                + ": no input with role '" + role + "'"));
        if (d.type() != ElementType.FLOAT32) {
            throw new IllegalStateException(m.stage() + ": input '" + d.name() + "' (role " + role + ") is "
                    + d.type().id() + ", the engine feeds float32 here");
        }
        in.put(d.name(), value);
    }

    /** Puts integer values (ids, masks, timesteps) for the input with {@code role}; float inputs get floats. */
    static void putIntegers(ModelInputs in, StageManifest m, String role, long[] values, long... shape) {
        TensorDecl d = m.inputForRole(role).orElseThrow(() -> new IllegalStateException(m.stage()
                + ": no input with role '" + role + "'"));
        if (d.type() == ElementType.FLOAT32) {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = values[i];
            }
            in.put(d.name(), Tensor.of(f, shape));
        } else {
            in.put(d.name(), new LongTensor(values, shape));
        }
    }

    static boolean has(StageManifest m, String role) {
        return m.inputForRole(role).isPresent();
    }
}
