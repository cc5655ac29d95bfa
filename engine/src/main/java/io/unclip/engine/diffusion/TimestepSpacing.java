package io.unclip.engine.diffusion;

import java.util.Locale;

/**
 * diffusers-style evenly spaced inference timesteps ({@code timestep_spacing} of the DDPM and DDIM
 * schedulers, see "Common Diffusion Noise Schedules and Sample Steps are Flawed", table 2).
 * Ties round half to even, like numpy.
 */
public enum TimestepSpacing {
    /** {@code arange(n) * (T // n) + offset}: always contains 0 (plus offset), never T - 1. */
    LEADING,
    /** {@code round(T - i * T / n) - 1}: always contains T - 1. */
    TRAILING,
    /** {@code round(linspace(0, T - 1, n))}: contains both ends. */
    LINSPACE;

    /** Parses {@code leading}, {@code trailing} or {@code linspace}. */
    public static TimestepSpacing fromName(String name) {
        if (name != null) {
            for (TimestepSpacing s : values()) {
                if (s.name().equals(name.trim().toUpperCase(Locale.ROOT))) {
                    return s;
                }
            }
        }
        throw new IllegalArgumentException("unknown timestep spacing '" + name
                + "' (expected leading, trailing or linspace)");
    }

    /**
     * The kept timesteps in ascending order. {@code stepsOffset} only applies to {@link #LEADING}
     * (diffusers' {@code steps_offset}); pass 0 otherwise.
     */
    public int[] timesteps(int numTrainTimesteps, int numSteps, int stepsOffset) {
        if (numTrainTimesteps < 1) {
            throw new IllegalArgumentException("number of train timesteps must be >= 1, got " + numTrainTimesteps);
        }
        if (numSteps < 1 || numSteps > numTrainTimesteps) {
            throw new IllegalArgumentException("number of sampling steps must be in [1, "
                    + numTrainTimesteps + "], got " + numSteps);
        }
        if (stepsOffset != 0 && this != LEADING) {
            throw new IllegalArgumentException("steps offset only applies to leading spacing");
        }
        int[] ascending = new int[numSteps];
        switch (this) {
            case LEADING: {
                int ratio = numTrainTimesteps / numSteps;
                for (int i = 0; i < numSteps; i++) {
                    ascending[i] = i * ratio + stepsOffset;
                }
                break;
            }
            case TRAILING: {
                // numpy's arange(T, 0, -T/n) can yield n + 1 values by rounding; we always take n.
                double ratio = (double) numTrainTimesteps / numSteps;
                for (int i = 0; i < numSteps; i++) {
                    ascending[numSteps - 1 - i] = (int) Math.rint(numTrainTimesteps - i * ratio) - 1;
                }
                break;
            }
            case LINSPACE: {
                double step = numSteps == 1 ? 0 : (numTrainTimesteps - 1.0) / (numSteps - 1);
                for (int i = 0; i < numSteps; i++) {
                    ascending[i] = (int) Math.rint(i * step);
                }
                ascending[numSteps - 1] = numSteps == 1 ? 0 : numTrainTimesteps - 1;
                break;
            }
            default:
                throw new AssertionError(this);
        }
        return ascending;
    }
}
