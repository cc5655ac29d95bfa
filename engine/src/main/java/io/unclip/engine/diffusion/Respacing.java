package io.unclip.engine.diffusion;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * Which timesteps of the trained T-step chain a sampler keeps (improved-diffusion
 * {@code respace.py}). The respaced chain recomputes its betas from the kept alphas_cumprod (see
 * {@link GaussianDiffusion}); the model is still called with the original timestep values.
 */
public final class Respacing {
    private final int numTrainTimesteps;
    private final int[] kept;
    private final String description;

    private Respacing(int numTrainTimesteps, int[] kept, String description) {
        this.numTrainTimesteps = numTrainTimesteps;
        this.kept = kept;
        this.description = description;
    }

    /** Keeps every timestep of the trained chain. */
    public static Respacing none(int numTrainTimesteps) {
        requireTrainTimesteps(numTrainTimesteps);
        int[] all = new int[numTrainTimesteps];
        Arrays.setAll(all, i -> i);
        return new Respacing(numTrainTimesteps, all, "all " + numTrainTimesteps);
    }

    /**
     * Parses improved-diffusion's section string ({@code space_timesteps}):
     * <ul>
     *   <li>{@code "25"}: 25 steps evenly strided over the chain (fractional stride
     *       (T-1)/(n-1), each position rounded half to even);</li>
     *   <li>{@code "10,15,20"}: the chain cut into equal sections (earlier sections one step longer
     *       when T does not divide), each section strided the same way;</li>
     *   <li>{@code "ddim25"}: {@code range(0, T, k)} for the smallest integer stride k in [1, T-1]
     *       that gives exactly 25 steps (the DDIM paper's spacing);</li>
     *   <li>{@code "leading25"}, {@code "trailing25"}, {@code "linspace25"}: diffusers' evenly
     *       spaced timesteps ({@link TimestepSpacing}), 25 of them.</li>
     * </ul>
     * This is the one respacing grammar: manifests, the command line and requests all use it.
     */
    public static Respacing parse(String spec, int numTrainTimesteps) {
        requireTrainTimesteps(numTrainTimesteps);
        String s = trimmed(spec);
        for (TimestepSpacing spacing : TimestepSpacing.values()) {
            String name = name(spacing);
            if (s.startsWith(name)) {
                int n = parseCount(s.substring(name.length()), s);
                if (n > numTrainTimesteps) {
                    throw new IllegalArgumentException("respacing '" + s + "': " + n + " steps of a " + numTrainTimesteps
                            + "-step chain");
                }
                return new Respacing(numTrainTimesteps, spacing.timesteps(numTrainTimesteps, n, 0), s);
            }
        }
        int[] kept = s.startsWith("ddim")
                ? ddimStride(parseCount(s.substring(4), s), numTrainTimesteps)
                : sections(s, numTrainTimesteps);
        return new Respacing(numTrainTimesteps, kept, s);
    }

    /**
     * The number of steps {@code spec} asks for, read from its syntax alone (no chain length): what a
     * request's door can check before a model says how long its chain is. {@link #parse} later
     * checks it against the chain.
     *
     * @throws IllegalArgumentException when {@code spec} is not in the grammar of {@link #parse}
     */
    public static int steps(String spec) {
        String s = trimmed(spec);
        for (TimestepSpacing spacing : TimestepSpacing.values()) {
            String name = name(spacing);
            if (s.startsWith(name)) {
                return parseCount(s.substring(name.length()), s);
            }
        }
        if (s.startsWith("ddim")) {
            return parseCount(s.substring(4), s);
        }
        long total = 0;
        for (String section : s.split(",", -1)) {
            total += parseCount(section, s);
        }
        return (int) Math.min(total, Integer.MAX_VALUE);
    }

    /** diffusers-style evenly spaced timesteps ({@link TimestepSpacing}). */
    public static Respacing evenly(int numTrainTimesteps, int numSteps, TimestepSpacing spacing) {
        return evenly(numTrainTimesteps, numSteps, spacing, 0);
    }

    /** diffusers-style evenly spaced timesteps with diffusers' {@code steps_offset} (leading only). */
    public static Respacing evenly(int numTrainTimesteps, int numSteps, TimestepSpacing spacing, int stepsOffset) {
        if (spacing == null) {
            throw new IllegalArgumentException("timestep spacing is null");
        }
        int[] ts = spacing.timesteps(numTrainTimesteps, numSteps, stepsOffset);
        return of(numTrainTimesteps, ts, spacing.name().toLowerCase(java.util.Locale.ROOT) + " " + numSteps);
    }

    /** An explicit set of kept timesteps (any order; must be distinct and in [0, T)). */
    public static Respacing of(int numTrainTimesteps, int... timesteps) {
        return of(numTrainTimesteps, timesteps, "explicit " + timesteps.length);
    }

    private static Respacing of(int numTrainTimesteps, int[] timesteps, String description) {
        requireTrainTimesteps(numTrainTimesteps);
        if (timesteps.length == 0) {
            throw new IllegalArgumentException("at least one timestep must be kept");
        }
        int[] sorted = timesteps.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            if (sorted[i] < 0 || sorted[i] >= numTrainTimesteps) {
                throw new IllegalArgumentException("timestep " + sorted[i] + " outside [0, "
                        + numTrainTimesteps + ")");
            }
            if (i > 0 && sorted[i] == sorted[i - 1]) {
                throw new IllegalArgumentException("timestep " + sorted[i] + " kept twice");
            }
        }
        return new Respacing(numTrainTimesteps, sorted, description);
    }

    public int numTrainTimesteps() {
        return numTrainTimesteps;
    }

    /** Number of sampling steps. */
    public int numSteps() {
        return kept.length;
    }

    /** Kept original timesteps, ascending (respaced index i maps to {@code keptTimesteps()[i]}). */
    public int[] keptTimesteps() {
        return kept.clone();
    }

    @Override
    public String toString() {
        return "Respacing[" + description + " of " + numTrainTimesteps + "]";
    }

    private static int[] ddimStride(int desired, int numTrainTimesteps) {
        for (int stride = 1; stride < numTrainTimesteps; stride++) {
            int count = (numTrainTimesteps + stride - 1) / stride;
            if (count == desired) {
                int[] kept = new int[count];
                for (int i = 0; i < count; i++) {
                    kept[i] = i * stride;
                }
                return kept;
            }
        }
        throw new IllegalArgumentException("cannot create exactly " + desired + " steps from "
                + numTrainTimesteps + " with an integer stride (ddim" + desired + ")");
    }

    private static int[] sections(String spec, int numTrainTimesteps) {
        String[] parts = spec.split(",", -1);
        int sizePer = numTrainTimesteps / parts.length;
        int extra = numTrainTimesteps % parts.length;
        TreeSet<Integer> steps = new TreeSet<>();
        int start = 0;
        for (int i = 0; i < parts.length; i++) {
            int count = parseCount(parts[i], spec);
            int size = sizePer + (i < extra ? 1 : 0);
            if (size < count) {
                throw new IllegalArgumentException("respacing '" + spec + "': cannot divide section "
                        + i + " of " + size + " steps into " + count);
            }
            double stride = count <= 1 ? 1 : (size - 1.0) / (count - 1);
            double cur = 0.0; // accumulated, not multiplied, exactly like respace.py
            for (int k = 0; k < count; k++) {
                steps.add(start + (int) Math.rint(cur));
                cur += stride;
            }
            start += size;
        }
        return steps.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String trimmed(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("respacing string is empty");
        }
        return spec.trim();
    }

    /** A spacing's prefix in the grammar: "leading", "trailing", "linspace". */
    private static String name(TimestepSpacing spacing) {
        return spacing.name().toLowerCase(java.util.Locale.ROOT);
    }

    private static int parseCount(String text, String spec) {
        int n;
        try {
            if (!text.trim().matches("[0-9]{1,9}")) {
                throw new NumberFormatException(text);
            }
            n = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("respacing '" + spec + "': '" + text
                    + "' is not a step count (expected e.g. \"25\", \"10,15,20\", \"ddim25\" or \"trailing25\")");
        }
        if (n < 1) {
            throw new IllegalArgumentException("respacing '" + spec + "': step count must be >= 1, got " + n);
        }
        return n;
    }

    private static void requireTrainTimesteps(int numTrainTimesteps) {
        if (numTrainTimesteps < 1) {
            throw new IllegalArgumentException("number of train timesteps must be >= 1, got " + numTrainTimesteps);
        }
    }
}
