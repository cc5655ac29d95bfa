package io.unclip.engine.diffusion;

import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Per-run options of {@link DiffusionSampler}.
 *
 * @param guidance     classifier-free guidance, or null for a plain conditional run (N model rows)
 * @param listener     called after each step (never null; {@link StepListener#NONE} by default)
 * @param cancellation checked before each step; true stops the run with
 *                     {@link SamplingCancelledException}
 */
public record SamplingOptions(ClassifierFreeGuidance guidance, StepListener listener, BooleanSupplier cancellation) {
    private static final BooleanSupplier NEVER = () -> false;

    public SamplingOptions {
        listener = listener == null ? StepListener.NONE : listener;
        cancellation = cancellation == null ? NEVER : cancellation;
    }

    public static SamplingOptions defaults() {
        return new SamplingOptions(null, null, null);
    }

    public SamplingOptions withGuidanceScale(double scale) {
        return new SamplingOptions(new ClassifierFreeGuidance(scale), listener, cancellation);
    }

    public SamplingOptions withoutGuidance() {
        return new SamplingOptions(null, listener, cancellation);
    }

    public SamplingOptions withListener(StepListener l) {
        return new SamplingOptions(guidance, l, cancellation);
    }

    public SamplingOptions withCancellation(BooleanSupplier c) {
        return new SamplingOptions(guidance, listener, c);
    }

    public Optional<ClassifierFreeGuidance> guidanceIfAny() {
        return Optional.ofNullable(guidance);
    }
}
