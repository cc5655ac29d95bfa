package io.unclip.engine.diffusion;

import java.util.Locale;

/**
 * The named beta schedules of improved-diffusion ({@code get_named_beta_schedule}), computed in
 * double precision like numpy's float64.
 */
public enum BetaSchedule {
    /** Ho et al. (2020): betas linear from 1e-4 to 0.02, both scaled by 1000/T so any T works. */
    LINEAR {
        @Override
        public double[] betas(int numTimesteps) {
            requirePositive(numTimesteps);
            double scale = 1000.0 / numTimesteps;
            return linspace(scale * 0.0001, scale * 0.02, numTimesteps);
        }
    },
    /**
     * Nichol and Dhariwal (2021), eq. 17: alpha_bar(t) = cos^2(((t/T + s) / (1 + s)) * pi/2) with
     * s = 0.008, discretised as beta_i = min(1 - alpha_bar((i+1)/T) / alpha_bar(i/T), 0.999).
     * diffusers calls the same schedule {@code squaredcos_cap_v2}.
     */
    COSINE {
        @Override
        public double[] betas(int numTimesteps) {
            requirePositive(numTimesteps);
            double[] betas = new double[numTimesteps];
            for (int i = 0; i < numTimesteps; i++) {
                double t1 = (double) i / numTimesteps;
                double t2 = (double) (i + 1) / numTimesteps;
                betas[i] = Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), MAX_BETA);
            }
            return betas;
        }
    };

    /** Cap that keeps the cosine schedule away from the singularity at t = T. */
    public static final double MAX_BETA = 0.999;

    /** The betas beta_0 .. beta_{T-1} of a chain with {@code numTimesteps} steps. */
    public abstract double[] betas(int numTimesteps);

    /** Parses {@code linear}, {@code cosine} or its diffusers alias {@code squaredcos_cap_v2}. */
    public static BetaSchedule fromName(String name) {
        if (name == null) {
            throw new IllegalArgumentException("beta schedule name is null");
        }
        switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "linear":
                return LINEAR;
            case "cosine":
            case "squaredcos_cap_v2":
                return COSINE;
            default:
                throw new IllegalArgumentException("unknown beta schedule '" + name
                        + "' (expected linear, cosine or squaredcos_cap_v2)");
        }
    }

    private static double cosineAlphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /** numpy.linspace(start, stop, n): start + i * step, last element exactly stop. */
    private static double[] linspace(double start, double stop, int n) {
        double[] out = new double[n];
        if (n == 1) {
            out[0] = start;
            return out;
        }
        double step = (stop - start) / (n - 1);
        for (int i = 0; i < n; i++) {
            out[i] = i * step + start;
        }
        out[n - 1] = stop;
        return out;
    }

    private static void requirePositive(int numTimesteps) {
        if (numTimesteps < 1) {
            throw new IllegalArgumentException("number of timesteps must be >= 1, got " + numTimesteps);
        }
    }
}
