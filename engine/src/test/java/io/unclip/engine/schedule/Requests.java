package io.unclip.engine.schedule;

import io.unclip.engine.diffusion.BetaSchedule;
import io.unclip.engine.diffusion.ClassifierFreeGuidance;
import io.unclip.engine.diffusion.DdimStep;
import io.unclip.engine.diffusion.DdpmStep;
import io.unclip.engine.diffusion.DenoisingStep;
import io.unclip.engine.diffusion.DiffusionModel;
import io.unclip.engine.diffusion.DiffusionSampler;
import io.unclip.engine.diffusion.GaussianDiffusion;
import io.unclip.engine.diffusion.ModelOutputSpec;
import io.unclip.engine.diffusion.Prediction;
import io.unclip.engine.diffusion.Respacing;
import io.unclip.engine.diffusion.SamplingOptions;
import io.unclip.engine.diffusion.SamplingState;
import io.unclip.engine.diffusion.VarianceType;
import io.unclip.engine.diffusion.X0Clip;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.seed.StageNoise;
import io.unclip.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Requests of a toy diffusion model for the scheduler tests, and that model. */
final class Requests {
    static final long[] ITEM = {3, 4, 4}; // C, H, W of one row
    static final ModelOutputSpec EPS_LEARNED =
            new ModelOutputSpec(Prediction.EPSILON, VarianceType.LEARNED_RANGE, X0Clip.unit());

    private Requests() {
    }

    /**
     * @param respacing the request's own chain, e.g. "10" or "ddim5"
     * @param guidance  classifier-free guidance scale, or NaN for none
     * @param cond      the request's conditioning value (its rows' only input besides x_t)
     */
    record Spec(String respacing, double eta, double guidance, int images, long seed, float cond) {
        SamplingState state() {
            GaussianDiffusion d = GaussianDiffusion.create(BetaSchedule.COSINE, 1000, Respacing.parse(respacing, 1000));
            DenoisingStep step = respacing.startsWith("ddim") ? new DdimStep(d, EPS_LEARNED, eta)
                    : new DdpmStep(d, EPS_LEARNED);
            return SamplingState.fromNoise(step, shape(), StageNoise.forRange(seed, "toy", 0, 0, images),
                    Double.isNaN(guidance) ? null : new ClassifierFreeGuidance(guidance), null, null);
        }

        long[] shape() {
            return new long[] {images, ITEM[0], ITEM[1], ITEM[2]};
        }

        /** Its rows of the "cond" input: cond for the conditional rows, 0 for the unconditional. */
        ModelInputs conditioning() {
            int rows = Double.isNaN(guidance) ? images : 2 * images;
            float[] c = new float[rows];
            for (int r = 0; r < images; r++) {
                c[r] = cond;
            }
            return ModelInputs.create().put("cond", Tensor.of(c, rows, 1));
        }

        StepScheduler.Job job() {
            return new StepScheduler.Job(state(), conditioning(), null, Long.MAX_VALUE);
        }

        /** The sample of this request sampled alone, by the plain driver. */
        Tensor alone() {
            float[] c = conditioning().floats().get("cond").toArray();
            DiffusionModel m = (x, t) -> {
                long[] ts = t.clone();
                return ToyModel.predict(x, ts, c);
            };
            return DiffusionSampler.run(m, state(), SamplingOptions.defaults());
        }
    }

    /** One model call as the toy model saw it. */
    record Call(int rows, List<Long> timesteps, List<Float> conds) {
    }

    /**
     * Row r's output depends on row r's x_t, timestep and conditioning only, as a real network's
     * does. Records every call; can hold its first call until released.
     */
    static final class ToyModel implements StepModel {
        final List<Call> calls = new ArrayList<>();
        final CountDownLatch release;
        final long sleepNanos;

        ToyModel(boolean holdFirstCall, long sleepNanos) {
            this.release = new CountDownLatch(holdFirstCall ? 1 : 0);
            this.sleepNanos = sleepNanos;
        }

        @Override
        public synchronized Tensor predict(List<? extends StepRows> batch, int rows) {
            try {
                if (!release.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("never released");
                }
                if (sleepNanos > 0) {
                    Thread.sleep(sleepNanos / 1_000_000, (int) (sleepNanos % 1_000_000));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            int item = (int) (ITEM[0] * ITEM[1] * ITEM[2]);
            float[] x = new float[rows * item];
            long[] ts = new long[rows];
            float[] cond = new float[rows];
            List<Long> seenT = new ArrayList<>();
            List<Float> seenC = new ArrayList<>();
            int r = 0;
            for (StepRows s : batch) {
                s.sample().buffer().get(0, x, r * item, s.rows() * item);
                float[] c = s.conditioning().floats().get("cond").toArray();
                for (int k = 0; k < s.rows(); k++) {
                    ts[r + k] = s.timestep();
                    cond[r + k] = c[k];
                }
                seenT.add(s.timestep());
                seenC.add(c[0]);
                r += s.rows();
            }
            calls.add(new Call(rows, seenT, seenC));
            return predict(Tensor.of(x, rows, ITEM[0], ITEM[1], ITEM[2]), ts, cond);
        }

        static Tensor predict(Tensor x, long[] t, float[] cond) {
            int rows = (int) x.dim(0);
            int c = (int) ITEM[0];
            int s = (int) (ITEM[1] * ITEM[2]);
            Tensor out = Tensor.zeros(rows, 2 * c, ITEM[1], ITEM[2]);
            for (int r = 0; r < rows; r++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < s; i++) {
                        float v = x.get((r * c + ch) * s + i);
                        out.set((r * 2 * c + ch) * s + i, (float) Math.sin(0.7 * v + cond[r] + 1e-3 * t[r] + i));
                        out.set((r * 2 * c + c + ch) * s + i, (float) Math.tanh(v + cond[r]));
                    }
                }
            }
            return out;
        }
    }
}
