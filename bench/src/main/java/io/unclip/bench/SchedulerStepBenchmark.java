package io.unclip.bench;

import io.unclip.engine.diffusion.BetaSchedule;
import io.unclip.engine.diffusion.ClassifierFreeGuidance;
import io.unclip.engine.diffusion.DdpmStep;
import io.unclip.engine.diffusion.GaussianDiffusion;
import io.unclip.engine.diffusion.ModelOutputSpec;
import io.unclip.engine.diffusion.Prediction;
import io.unclip.engine.diffusion.Respacing;
import io.unclip.engine.diffusion.SamplingState;
import io.unclip.engine.diffusion.VarianceType;
import io.unclip.engine.diffusion.X0Clip;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.schedule.SchedulerConfig;
import io.unclip.engine.schedule.StepModel;
import io.unclip.engine.schedule.StepProgress;
import io.unclip.engine.schedule.StepScheduler;
import io.unclip.engine.schedule.Ticket;
import io.unclip.engine.seed.StageNoise;
import io.unclip.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What a step scheduler costs per step outside the model: the decoder's shape (one 32x32 image
 * with guidance and learned variance per request, so 2 rows and 6 output channels each), N
 * requests sharing every call, a "model" that hands back a preallocated prediction. Measured:
 * assembling the step batch, guidance, noise, the DDPM maths, scattering back, the tickets'
 * progress events (previews at every 5th step) and retiring. One invocation is N requests of
 * {@value #STEPS} steps from submission to the last sample; scores are per step of all N.
 * Compare with a decoder step at 2N rows in {@code ../shared/measurements/} (the target: at most
 * 5% of it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SchedulerStepBenchmark {
    static final int STEPS = 50;
    private static final long[] SHAPE = {1, 3, 32, 32};

    @Param({"1", "16", "32"})
    public int requests;

    private StepScheduler scheduler;
    private GaussianDiffusion diffusion;
    private ModelOutputSpec spec;
    private long seed;

    @Setup(Level.Trial)
    public void setUp() {
        diffusion = GaussianDiffusion.create(BetaSchedule.COSINE, 1000, Respacing.parse(Integer.toString(STEPS), 1000));
        spec = new ModelOutputSpec(Prediction.EPSILON, VarianceType.LEARNED_RANGE, X0Clip.unit());
        int rows = 2 * requests;
        float[] out = new float[rows * 6 * 32 * 32];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) Math.sin(i * 0.37) * 0.9f;
        }
        Tensor prediction = Tensor.of(out, rows, 6, 32, 32);
        StepModel model = (batch, n) -> n == rows ? prediction : Tensor.zeros(n, 6, 32, 32);
        scheduler = new StepScheduler("decoder", model, SchedulerConfig.DEFAULT, null);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scheduler.close();
    }

    @Benchmark
    @OperationsPerInvocation(STEPS)
    public float requestsInStep() {
        List<Ticket> tickets = new ArrayList<>(requests);
        for (int i = 0; i < requests; i++) {
            Ticket t = new Ticket(STEPS, null);
            SamplingState state = SamplingState.fromNoise(new DdpmStep(diffusion, spec), SHAPE,
                    StageNoise.forImages(seed++, "decoder", 2, 0), new ClassifierFreeGuidance(3.0), null,
                    (k, total, predX0) -> t.post(new StepProgress(k + 1, total,
                            (k + 1) % 5 == 0 ? predX0.copy() : null)));
            ModelInputs cond = ModelInputs.create().put("image_embeds", Tensor.zeros(2, 64));
            scheduler.submit(new StepScheduler.Job(state, cond, null, Long.MAX_VALUE), t);
            tickets.add(t);
        }
        float sum = 0;
        for (Ticket t : tickets) {
            sum += t.await(p -> { }).buffer().get(0);
        }
        return sum;
    }
}
