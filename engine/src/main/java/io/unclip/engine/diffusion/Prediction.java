package io.unclip.engine.diffusion;

import java.util.Locale;

/** What the first C channels of the model output predict (improved-diffusion ModelMeanType). */
public enum Prediction {
    /** The added noise epsilon; x0 = sqrt(1/alpha_bar) x_t - sqrt(1/alpha_bar - 1) eps (Ho et al. eq. 15). */
    EPSILON,
    /** The clean sample x0 directly (improved-diffusion START_X, diffusers "sample"). */
    X0;

    /** Parses {@code epsilon}/{@code eps} or {@code x0}/{@code sample}/{@code start_x}. */
    public static Prediction fromName(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "epsilon":
            case "eps":
                return EPSILON;
            case "x0":
            case "sample":
            case "start_x":
                return X0;
            default:
                throw new IllegalArgumentException("unknown prediction type '" + name + "' (expected epsilon or x0)");
        }
    }
}
