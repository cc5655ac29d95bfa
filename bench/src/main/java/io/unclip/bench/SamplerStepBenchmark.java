package io.unclip.bench;

import io.unclip.engine.diffusion.BetaSchedule;
import io.unclip.engine.diffusion.DiffusionModel;
import io.unclip.engine.diffusion.DiffusionSampler;
import io.unclip.engine.diffusion.GaussianDiffusion;
import io.unclip.engine.diffusion.ModelOutputSpec;
import io.unclip.engine.diffusion.NoiseSource;
import io.unclip.engine.diffusion.Prediction;
import io.unclip.engine.diffusion.Respacing;
import io.unclip.engine.diffusion.SamplingOptions;
import io.unclip.engine.diffusion.VarianceType;
import io.unclip.engine.diffusion.X0Clip;
import io.unclip.engine.seed.StageNoise;
import io.unclip.engine.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Per-step cost of the sampling loop outside the network: one image with classifier-free
 * guidance (model batch 2 = cond + uncond), epsilon prediction with learned-range variance
 * (2C output channels), x0 clipping. The "model" hands back a preallocated tensor, so what is
 * measured is input staging, guidance, noise drawing, the step maths and the preview copy.
 * One invocation is a full {@value #STEPS}-step run; scores are per step.
 *
 * <p>{@code noise=seeded} draws the real per-image stream (SplitMix64 + polar method);
 * {@code noise=zero} isolates the arithmetic. DDIM runs with eta = 0, which draws no noise.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SamplerStepBenchmark {
    static final int STEPS = 25;

    @Param({"ddpm", "ddim"})
    public String sampler;

    @Param({"64", "256"})
    public int size;

    @Param({"seeded", "zero"})
    public String noise;

    private DiffusionSampler diffusionSampler;
    private DiffusionModel model;
    private Tensor xT;
    private SamplingOptions options;

    @Setup
    public void setUp() {
        GaussianDiffusion diffusion = GaussianDiffusion.create(BetaSchedule.COSINE, 1000,
                Respacing.parse(Integer.toString(STEPS), 1000));
        ModelOutputSpec spec = new ModelOutputSpec(Prediction.EPSILON, VarianceType.LEARNED_RANGE, X0Clip.unit());
        diffusionSampler = "ddpm".equals(sampler)
                ? DiffusionSampler.ddpm(diffusion, spec)
                : DiffusionSampler.ddim(diffusion, spec, 0.0);
        float[] out = new float[2 * 6 * size * size];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) Math.sin(i * 0.37) * 0.9f; // eps and variance values in [-1, 1]
        }
        Tensor output = Tensor.of(out, 2, 6, size, size);
        model = (x, timesteps) -> output;
        float[] x = new float[3 * size * size];
        StageNoise.forImages(1, "bench", 0, 0).fill(0, x, 0, x.length);
        xT = Tensor.of(x, 1, 3, size, size);
        options = SamplingOptions.defaults().withGuidanceScale(3.0)
                .withListener((step, total, preview) -> { }); // previews on, as in serving
    }

    private NoiseSource noiseSource() {
        if ("zero".equals(noise)) {
            return (row, dst, offset, length) -> Arrays.fill(dst, offset, offset + length, 0f);
        }
        return StageNoise.forImages(42, "decoder", 1, 0);
    }

    @Benchmark
    @OperationsPerInvocation(STEPS)
    public Tensor step() {
        return diffusionSampler.sample(model, xT, noiseSource(), options);
    }
}
