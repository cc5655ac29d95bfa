package io.unclip.engine.diffusion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Replays a reference case through the production classes and lists every disagreement
 * (an empty list means the case passes). Used by the dynamic tests and by the test that proves
 * a perturbed case is caught.
 */
final class ReferenceChecker {
    static final double TOLERANCE = 1e-4;

    private final ReferenceCase refCase;
    private final GaussianDiffusion diffusion;
    private final DenoisingStep step;
    private final ClassifierFreeGuidance guidance;
    private final SampleLayout layout;

    ReferenceChecker(ReferenceCase refCase) {
        this.refCase = refCase;
        BetaSchedule schedule = BetaSchedule.fromName(refCase.schedule());
        Respacing respacing = Respacing.parse(refCase.respacing(), refCase.numTrainTimesteps());
        diffusion = GaussianDiffusion.create(schedule, refCase.numTrainTimesteps(), respacing);
        ModelOutputSpec spec = new ModelOutputSpec(Prediction.fromName(refCase.prediction()),
                VarianceType.fromName(refCase.variance()),
                refCase.clipDenoised() ? X0Clip.unit() : X0Clip.off());
        step = DiffusionSampler.named(refCase.sampler(), diffusion, spec, refCase.eta()).step();
        guidance = refCase.guidanceScale() == null ? null : new ClassifierFreeGuidance(refCase.guidanceScale());
        layout = SampleLayout.of(refCase.shape());
    }

    /** The respaced timesteps (sampling order) against the file's {@code timesteps}. */
    List<String> checkTimesteps() {
        List<String> problems = new ArrayList<>();
        long[] ours = diffusion.timestepsInSamplingOrder();
        if (!Arrays.equals(ours, refCase.timesteps())) {
            problems.add("timesteps differ: expected " + Arrays.toString(refCase.timesteps()) + ", got "
                    + Arrays.toString(ours));
        }
        int outChannels = step.outputSpec().variance().outputChannels(layout.channels());
        if (outChannels != refCase.modelOutputChannels()) {
            problems.add("model_output_channels " + refCase.modelOutputChannels() + " but " + refCase.variance()
                    + " implies " + outChannels);
        }
        return problems;
    }

    /** One step: feeds x_t, model output(s) and noise, compares every expected array. */
    List<String> checkStep(ReferenceCase.Step s) {
        List<String> problems = new ArrayList<>();
        if (s.index() < 0 || s.index() >= diffusion.numSteps()) {
            problems.add("index " + s.index() + " outside the respaced chain of " + diffusion.numSteps());
            return problems;
        }
        if (diffusion.modelTimestep(s.index()) != s.modelTimestep()) {
            problems.add("model_timestep: expected " + s.modelTimestep() + ", got " + diffusion.modelTimestep(s.index()));
        }
        float[] output = s.modelOutput();
        if (guidance != null) {
            if (s.uncondModelOutput() == null) {
                problems.add("guided case without uncond_model_output");
                return problems;
            }
            float[] batched = new float[2 * output.length];
            System.arraycopy(output, 0, batched, 0, output.length);
            System.arraycopy(s.uncondModelOutput(), 0, batched, output.length, output.length);
            output = new float[output.length];
            guidance.combine(batched, layout.batch(), layout.channels(),
                    refCase.modelOutputChannels(), layout.spatial(), output);
        }
        StepResult result = new StepResult(layout);
        step.apply(s.index(), s.xT(), output, s.noise(), layout, result);
        compare("expected_pred_x0", s.expectedPredX0(), result.predX0(), problems);
        compare("expected_x_prev", s.expectedXPrev(), result.xPrev(), problems);
        if (step instanceof DdpmStep) {
            if (s.expectedMean() == null || s.expectedLogVariance() == null) {
                problems.add("DDPM step without expected_mean / expected_log_variance");
            } else {
                compare("expected_mean", s.expectedMean(), result.mean(), problems);
                compare("expected_log_variance", s.expectedLogVariance(), result.logVariance(), problems);
            }
        }
        return problems;
    }

    private static void compare(String field, float[] expected, float[] actual, List<String> problems) {
        if (expected.length != actual.length) {
            problems.add(field + ": expected " + expected.length + " values, got " + actual.length);
            return;
        }
        int bad = 0;
        int worst = -1;
        double worstError = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) expected[i] - actual[i]);
            if (!(err <= TOLERANCE)) { // NaN counts as a mismatch
                bad++;
                if (worst < 0 || !(err <= worstError)) {
                    worst = i;
                    worstError = err;
                }
            }
        }
        if (bad > 0) {
            problems.add(String.format("%s: %d of %d values off by more than %.0e; worst [%d] expected %.8f got %.8f",
                    field, bad, expected.length, TOLERANCE, worst, expected[worst], actual[worst]));
        }
    }
}
