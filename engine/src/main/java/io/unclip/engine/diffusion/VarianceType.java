package io.unclip.engine.diffusion;

import java.util.Locale;

/** Where a step's variance comes from (improved-diffusion ModelVarType). */
public enum VarianceType {
    /** The posterior variance beta~_t (Ho et al. eq. 7); its log uses step 1's value at step 0. */
    FIXED_SMALL,
    /** beta_t, with step 0 set to the posterior variance of step 1. */
    FIXED_LARGE,
    /**
     * The model's extra C channels v in [-1, 1] interpolate in log space (Nichol and Dhariwal
     * eq. 15): log var = frac log beta_t + (1 - frac) log beta~_t, frac = (v + 1) / 2.
     */
    LEARNED_RANGE;

    /** Channels the model outputs for a sample with {@code channels} channels: C, or 2C if learned. */
    public int outputChannels(int channels) {
        return this == LEARNED_RANGE ? 2 * channels : channels;
    }

    /** Parses {@code fixed_small}, {@code fixed_large} or {@code learned_range}. */
    public static VarianceType fromName(String name) {
        if (name != null) {
            for (VarianceType v : values()) {
                if (v.name().equals(name.trim().toUpperCase(Locale.ROOT))) {
                    return v;
                }
            }
        }
        throw new IllegalArgumentException("unknown variance type '" + name
                + "' (expected fixed_small, fixed_large or learned_range)");
    }
}
