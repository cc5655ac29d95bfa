package io.unclip.engine.diffusion;

/** Thrown by the sampler when its cancellation check turns true before a step. */
public final class SamplingCancelledException extends RuntimeException {
    private final int completedSteps;
    private final int totalSteps;

    public SamplingCancelledException(int completedSteps, int totalSteps) {
        super("sampling cancelled after " + completedSteps + " of " + totalSteps + " steps");
        this.completedSteps = completedSteps;
        this.totalSteps = totalSteps;
    }

    public int completedSteps() {
        return completedSteps;
    }

    public int totalSteps() {
        return totalSteps;
    }
}
