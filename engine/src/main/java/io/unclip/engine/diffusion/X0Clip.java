package io.unclip.engine.diffusion;

/**
 * Clamping of the x0 prediction to [-limit, limit] before it enters the posterior mean
 * (improved-diffusion {@code clip_denoised}). Images use 1.0; Karlo's prior uses 5.0.
 */
public record X0Clip(double limit) {
    private static final X0Clip OFF = new X0Clip(Double.POSITIVE_INFINITY);

    public X0Clip {
        if (!(limit > 0)) {
            throw new IllegalArgumentException("x0 clip limit must be > 0 (or use X0Clip.off()), got " + limit);
        }
    }

    /** No clamping. */
    public static X0Clip off() {
        return OFF;
    }

    /** Clamp to [-limit, limit]. */
    public static X0Clip to(double limit) {
        if (Double.isInfinite(limit) || Double.isNaN(limit)) {
            throw new IllegalArgumentException("x0 clip limit must be finite, got " + limit);
        }
        return new X0Clip(limit);
    }

    /** The image default, [-1, 1]. */
    public static X0Clip unit() {
        return to(1.0);
    }

    public boolean enabled() {
        return limit != Double.POSITIVE_INFINITY;
    }
}
