package io.unclip.engine.model;

import java.util.List;
import java.util.OptionalDouble;

/**
 * The "diffusion" section of a prior, decoder or upsampler manifest, validated against the
 * allowed values but kept as plain strings and numbers (the sampler code maps them to its own
 * types).
 *
 * @param schedule       beta schedule: {@code linear}, {@code cosine} or {@code squaredcos_cap_v2}
 * @param trainTimesteps T, the number of training timesteps
 * @param prediction     what the model predicts: {@code epsilon} or {@code x0}
 * @param variance       {@code fixed_small}, {@code fixed_large} or {@code learned_range}
 * @param clipRange      x0 is clipped to [-clipRange, clipRange]; empty for no clipping
 * @param sampler        default sampler: {@code ddpm}, {@code ddim} or {@code consistency}
 * @param respacing      default respacing string: "25", "10,15,20", "ddim25", "trailing4", ...
 * @param eta            DDIM eta (0 = deterministic)
 * @param guidanceScale  default classifier-free guidance scale (1 = no guidance)
 * @param candidates     default samples per requested output, the one CLIP ranks closest kept: the
 *                       prior's embeddings (default {@value #PRIOR_CANDIDATES}, DALL-E 2's best of 2) or
 *                       the decoder's images (default 1); always 1 for upsamplers
 */
public record DiffusionSpec(String schedule, int trainTimesteps, String prediction, String variance,
                            OptionalDouble clipRange, String sampler, String respacing, double eta,
                            double guidanceScale, int candidates) {

    public static final List<String> SCHEDULES = List.of("linear", "cosine", "squaredcos_cap_v2");
    public static final List<String> PREDICTIONS = List.of("epsilon", "x0");
    public static final List<String> VARIANCES = List.of("fixed_small", "fixed_large", "learned_range");
    public static final List<String> SAMPLERS = List.of("ddpm", "ddim", "consistency");
    /** The prior's candidates when its manifest does not say. */
    public static final int PRIOR_CANDIDATES = 2;
    /** The most candidates a manifest or a request may ask for. */
    public static final int MAX_CANDIDATES = 8;

    /** Whether the model outputs twice the sample's channels (mean and variance interpolation). */
    public boolean learnedVariance() {
        return variance.equals("learned_range");
    }
}
