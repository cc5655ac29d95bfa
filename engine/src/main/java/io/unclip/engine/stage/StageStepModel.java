package io.unclip.engine.stage;

import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.model.TensorDecl;
import io.unclip.engine.onnx.ElementType;
import io.unclip.engine.onnx.LongTensor;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.onnx.ModelSession;
import io.unclip.engine.schedule.StepModel;
import io.unclip.engine.schedule.StepRows;
import io.unclip.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A diffusion stage's ONNX model as a {@link StepModel}: the step batch is assembled from the
 * requests' rows (sample rows and per-row timesteps each step; conditioning concatenated again
 * only when the set of requests changes) and the prediction is written into a reused tensor.
 *
 * <p>Batching must never change an image, but a one-row call may take another kernel path than
 * a call of several rows (a matrix-vector product, say), which rounds differently. The first
 * one-row call is therefore also made padded to two rows; if the rows differ, every later
 * one-row call is padded, so a request alone gets the bits it gets co-batched.
 *
 * <p>A stage with a last-step graph (the manifest's {@code last_step_onnx}, diffusers'
 * super_res_last) runs the rows of requests on their final step through that graph and every
 * other row through the main one: a step whose requests are at different points makes one call
 * per graph. Used by its scheduler's thread only.
 */
final class StageStepModel implements StepModel {
    private final StageManifest manifest;
    private final String sampleName;
    private final String predictionName;
    private final TensorDecl timestep;
    // a step may take several calls (maxRows): the concatenated conditioning of each call's
    // members is kept until its members change
    private final Map<Members, ModelInputs> conditionings = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Members, ModelInputs> eldest) {
            return size() > 8;
        }
    };
    private final Reused sample = new Reused();
    private final Graph main;
    private final Graph lastStep;
    private final Reused mixed = new Reused();

    StageStepModel(LoadedStage stage) {
        this.manifest = stage.manifest();
        this.sampleName = manifest.inputForRole("sample").orElseThrow().name();
        this.predictionName = manifest.outputName("prediction");
        this.timestep = manifest.inputForRole("timestep").orElseThrow();
        this.main = new Graph(stage.session());
        this.lastStep = stage.lastStepSession().map(Graph::new).orElse(null);
    }

    @Override
    public boolean perRowTimesteps() {
        return timestep.rank() > 0;
    }

    @Override
    public Tensor predict(List<? extends StepRows> batch, int rows) {
        if (lastStep == null) {
            return main.predict(batch, rows);
        }
        List<StepRows> early = new ArrayList<>(batch.size());
        List<StepRows> last = new ArrayList<>(batch.size());
        int lastRows = 0;
        for (StepRows r : batch) {
            if (r.lastStep()) {
                last.add(r);
                lastRows += r.rows();
            } else {
                early.add(r);
            }
        }
        if (last.isEmpty()) {
            return main.predict(batch, rows);
        }
        if (early.isEmpty()) {
            return lastStep.predict(batch, rows);
        }
        Tensor fromMain = main.predict(early, rows - lastRows); // each graph has its own output buffer
        Tensor fromLast = lastStep.predict(last, lastRows);
        long[] shape = fromMain.shape();
        shape[0] = rows;
        Tensor out = mixed.view(shape);
        int perRow = fromMain.size() / (rows - lastRows);
        int at = 0;
        int inMain = 0;
        int inLast = 0;
        for (StepRows r : batch) { // back in batch order
            int n = r.rows() * perRow;
            if (r.lastStep()) {
                out.buffer().put(at, fromLast.buffer(), inLast, n);
                inLast += n;
            } else {
                out.buffer().put(at, fromMain.buffer(), inMain, n);
                inMain += n;
            }
            at += n;
        }
        return out;
    }

    /** One ONNX graph of the stage, with its reused output and its one-row padding decision. */
    private final class Graph {
        private final ModelSession session;
        private final Reused output = new Reused();
        private Tensor single;
        private Boolean singleRowsDiffer; // null until the first one-row call

        Graph(ModelSession session) {
            this.session = session;
        }

        Tensor predict(List<? extends StepRows> batch, int rows) {
            if (rows > 1 || Boolean.FALSE.equals(singleRowsDiffer)) {
                return call(session, output, batch, rows);
            }
            float[] alone = singleRowsDiffer == null ? call(session, output, batch, 1).toArray() : null;
            Tensor padded = call(session, output, List.of(batch.get(0), batch.get(0)), 2);
            long[] shape = padded.shape();
            shape[0] = 1;
            if (single == null || !Arrays.equals(single.shape(), shape)) {
                single = Tensor.zeros(shape);
            }
            single.buffer().put(0, padded.buffer(), 0, single.size());
            if (singleRowsDiffer == null) {
                singleRowsDiffer = !Arrays.equals(alone, single.toArray());
            }
            return single;
        }
    }

    private Tensor call(ModelSession session, Reused output, List<? extends StepRows> batch, int rows) {
        ModelInputs in = ModelInputs.create();
        in.put(sampleName, samples(batch, rows));
        putTimesteps(in, batch, rows);
        ModelInputs cond = conditioning(batch);
        cond.floats().forEach(in::put);
        cond.integers().forEach(in::put);
        long[] outShape = batch.get(0).sample().shape();
        outShape[0] = rows;
        outShape[1] = batch.get(0).outputChannels();
        Tensor out = output.view(outShape);
        session.runInto(in, Map.of(predictionName, out));
        return out;
    }

    private Tensor samples(List<? extends StepRows> batch, int rows) {
        if (batch.size() == 1) {
            return batch.get(0).sample();
        }
        long[] shape = batch.get(0).sample().shape();
        shape[0] = rows;
        Tensor all = sample.view(shape);
        int offset = 0;
        for (StepRows r : batch) {
            Tensor t = r.sample();
            all.buffer().put(offset, t.buffer(), 0, t.size());
            offset += t.size();
        }
        return all;
    }

    private void putTimesteps(ModelInputs in, List<? extends StepRows> batch, int rows) {
        if (timestep.rank() == 0) {
            long t = batch.get(0).timestep(); // the scheduler groups a scalar timestep's rows by timestep
            if (timestep.type() == ElementType.FLOAT32) {
                in.put(timestep.name(), Tensor.of(new float[] {t}));
            } else {
                in.put(timestep.name(), new LongTensor(new long[] {t}, new long[0]));
            }
            return;
        }
        long[] ts = new long[rows];
        int i = 0;
        for (StepRows r : batch) {
            for (int k = 0; k < r.rows(); k++) {
                ts[i++] = r.timestep();
            }
        }
        StageRun.putIntegers(in, manifest, "timestep", ts, rows);
    }

    /** The batch's conditioning rows, concatenated in batch order; rebuilt when the requests change. */
    private ModelInputs conditioning(List<? extends StepRows> batch) {
        if (batch.size() == 1) {
            return batch.get(0).conditioning();
        }
        List<ModelInputs> now = new ArrayList<>(batch.size());
        for (StepRows r : batch) {
            now.add(r.conditioning());
        }
        Members key = new Members(now);
        ModelInputs cached = conditionings.get(key);
        if (cached != null) {
            return cached;
        }
        ModelInputs all = ModelInputs.create();
        for (String name : now.get(0).floats().keySet()) {
            List<Tensor> parts = new ArrayList<>(now.size());
            now.forEach(c -> parts.add(c.floats().get(name)));
            all.put(name, Tensors.concatRows(parts));
        }
        for (String name : now.get(0).integers().keySet()) {
            List<LongTensor> parts = new ArrayList<>(now.size());
            now.forEach(c -> parts.add(c.integers().get(name)));
            all.put(name, concatLongRows(parts));
        }
        conditionings.put(key, all);
        return all;
    }

    /** A call's members, the same when they are the same objects in the same order. */
    private record Members(List<ModelInputs> list) {
        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Members m) || m.list.size() != list.size()) {
                return false;
            }
            for (int i = 0; i < list.size(); i++) {
                if (m.list.get(i) != list.get(i)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            int h = 1;
            for (ModelInputs c : list) {
                h = 31 * h + System.identityHashCode(c);
            }
            return h;
        }
    }

    /** A direct buffer grown to the largest call yet, lent out as a tensor of each call's shape. */
    private static final class Reused {
        private Tensor backing;

        Tensor view(long[] shape) {
            int n = Math.toIntExact(Tensor.elementCount(shape));
            if (backing == null || backing.size() < n) {
                backing = Tensor.zeros(n);
            }
            return Tensor.wrap(backing.buffer().slice(0, n), shape);
        }
    }

    private static LongTensor concatLongRows(List<LongTensor> parts) {
        long[] shape = parts.get(0).shape().clone();
        int total = 0;
        long rows = 0;
        for (LongTensor p : parts) {
            total += p.data().length;
            rows += p.shape()[0];
        }
        shape[0] = rows;
        long[] data = new long[total];
        int at = 0;
        for (LongTensor p : parts) {
            System.arraycopy(p.data(), 0, data, at, p.data().length);
            at += p.data().length;
        }
        return new LongTensor(data, shape);
    }
}
