package io.unclip.engine.stage;

/**
 * Per-request changes to a diffusion stage's manifest defaults; a null field keeps the default.
 *
 * @param sampler       "ddpm", "ddim" or "consistency" ({@link io.unclip.engine.model.DiffusionSpec#SAMPLERS})
 * @param steps         number of sampling steps, 1..train_timesteps: shorthand for a respacing
 *                      string in the family of the manifest's default ("ddimN" when that is a ddim
 *                      stride and N has one, "trailingN" for "trailing...", and so on; else "N",
 *                      evenly spread); not together with {@code respacing}
 * @param respacing     a respacing string ({@link io.unclip.engine.diffusion.Respacing#parse}: "25",
 *                      "10,15,20", "ddim25", "trailing25", ...)
 * @param eta           DDIM noise scale in [0, 1]; only with the ddim sampler
 * @param guidanceScale classifier-free guidance scale in [0, 50] (1 = conditional only)
 * @param clipRange     x0 clamp to [-r, r], r > 0; {@code Double.POSITIVE_INFINITY} = no clamp
 * @param classifierScale ADM classifier guidance scale in [0, {@value #MAX_CLASSIFIER_SCALE}] (0 = off);
 *                      decoder only, with a classifier stage in the bundle
 * @param candidates    samples per requested output, 1..{@value #MAX_CANDIDATES}, the one CLIP ranks
 *                      closest kept: the prior's embeddings ({@link PriorStage}) or the decoder's images
 *                      ({@link DecoderStage}, with an image encoder stage in the bundle); not upsamplers
 */
public record SamplerOverrides(String sampler, Integer steps, String respacing, Double eta, Double guidanceScale,
                               Double clipRange, Double classifierScale, Integer candidates) {
    private static final SamplerOverrides NONE = new SamplerOverrides(null, null, null, null, null, null, null, null);
    public static final double MAX_CLASSIFIER_SCALE = 100;
    public static final int MAX_CANDIDATES = io.unclip.engine.model.DiffusionSpec.MAX_CANDIDATES;

    /** With the manifest's candidates. */
    public SamplerOverrides(String sampler, Integer steps, String respacing, Double eta, Double guidanceScale,
                            Double clipRange, Double classifierScale) {
        this(sampler, steps, respacing, eta, guidanceScale, clipRange, classifierScale, null);
    }

    /** Without classifier guidance. */
    public SamplerOverrides(String sampler, Integer steps, String respacing, Double eta, Double guidanceScale,
                            Double clipRange) {
        this(sampler, steps, respacing, eta, guidanceScale, clipRange, null, null);
    }

    /** Sampling steps of one stage, after respacing. */
    public static final int MAX_STEPS = 1000;
    public static final int MAX_RESPACING_CHARS = 64;
    public static final double MAX_GUIDANCE = 50;

    /**
     * The rules every override obeys whatever the model (the limits are defined here, once): a
     * known sampler, steps or respacing (not both), steps in [1, {@value #MAX_STEPS}], respacing in
     * the one grammar, eta in [0, 1] and not with ddpm, guidance in [0, {@value #MAX_GUIDANCE}],
     * clip > 0, candidates in [1, {@value #MAX_CANDIDATES}]. The model's chain length is checked later, by {@link SamplerSettings#resolve}.
     *
     * @param field field path prefix for messages, e.g. "decoder"
     * @return this
     */
    public SamplerOverrides check(String field) {
        String s = sampler == null ? null : sampler.trim().toLowerCase(java.util.Locale.ROOT);
        if (s != null && !io.unclip.engine.model.DiffusionSpec.SAMPLERS.contains(s)) {
            throw new InvalidRequestException(field + ".sampler", "is '" + sampler + "', expected "
                    + String.join(", ", io.unclip.engine.model.DiffusionSpec.SAMPLERS));
        }
        if (steps != null && respacing != null) {
            throw new InvalidRequestException(field + ".steps", "give steps or respacing, not both");
        }
        if (steps != null && (steps < 1 || steps > MAX_STEPS)) {
            throw new InvalidRequestException(field + ".steps", "must be between 1 and " + MAX_STEPS + ", got "
                    + Integer.toUnsignedString(steps));
        }
        if (respacing != null) {
            if (respacing.isBlank() || respacing.length() > MAX_RESPACING_CHARS) {
                throw new InvalidRequestException(field + ".respacing", "must be 1.." + MAX_RESPACING_CHARS + " characters");
            }
            int n;
            try {
                n = io.unclip.engine.diffusion.Respacing.steps(respacing);
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException(field + ".respacing", e.getMessage());
            }
            if (n > MAX_STEPS) {
                throw new InvalidRequestException(field + ".respacing", "asks for " + n + " steps, at most " + MAX_STEPS);
            }
        }
        if (eta != null) {
            if (!(eta >= 0 && eta <= 1)) {
                throw new InvalidRequestException(field + ".eta", "must be in [0, 1], got " + eta);
            }
            if (s != null && !s.equals("ddim") && eta != 0) {
                throw new InvalidRequestException(field + ".eta", "applies to the ddim sampler only");
            }
        }
        if (guidanceScale != null && !(guidanceScale >= 0 && guidanceScale <= MAX_GUIDANCE)) {
            throw new InvalidRequestException(field + ".guidance_scale", "must be in [0, " + (int) MAX_GUIDANCE
                    + "], got " + guidanceScale);
        }
        if (clipRange != null && !(clipRange > 0)) {
            throw new InvalidRequestException(field + ".clip", "must be > 0 (or none), got " + clipRange);
        }
        if (classifierScale != null && !(classifierScale >= 0 && classifierScale <= MAX_CLASSIFIER_SCALE)) {
            throw new InvalidRequestException(field + ".classifier_guidance", "must be in [0, "
                    + (int) MAX_CLASSIFIER_SCALE + "], got " + classifierScale);
        }
        if (candidates != null && (candidates < 1 || candidates > MAX_CANDIDATES)) {
            throw new InvalidRequestException(field + ".candidates", "must be between 1 and " + MAX_CANDIDATES
                    + ", got " + Integer.toUnsignedString(candidates));
        }
        return this;
    }

    /** Every field from the manifest. */
    public static SamplerOverrides none() {
        return NONE;
    }

    public boolean isEmpty() {
        return equals(NONE);
    }

    public SamplerOverrides withSampler(String s) {
        return new SamplerOverrides(s, steps, respacing, eta, guidanceScale, clipRange, classifierScale, candidates);
    }

    public SamplerOverrides withSteps(Integer n) {
        return new SamplerOverrides(sampler, n, respacing, eta, guidanceScale, clipRange, classifierScale, candidates);
    }

    public SamplerOverrides withRespacing(String r) {
        return new SamplerOverrides(sampler, steps, r, eta, guidanceScale, clipRange, classifierScale, candidates);
    }

    public SamplerOverrides withEta(Double e) {
        return new SamplerOverrides(sampler, steps, respacing, e, guidanceScale, clipRange, classifierScale, candidates);
    }

    public SamplerOverrides withGuidanceScale(Double g) {
        return new SamplerOverrides(sampler, steps, respacing, eta, g, clipRange, classifierScale, candidates);
    }

    public SamplerOverrides withClipRange(Double c) {
        return new SamplerOverrides(sampler, steps, respacing, eta, guidanceScale, c, classifierScale, candidates);
    }

    public SamplerOverrides withClassifierScale(Double s) {
        return new SamplerOverrides(sampler, steps, respacing, eta, guidanceScale, clipRange, s, candidates);
    }

    public SamplerOverrides withCandidates(Integer k) {
        return new SamplerOverrides(sampler, steps, respacing, eta, guidanceScale, clipRange, classifierScale, k);
    }

    /** These overrides, with fields of {@code other} replacing them where {@code other}'s are set. */
    public SamplerOverrides overriddenBy(SamplerOverrides other) {
        if (other == null) {
            return this;
        }
        return new SamplerOverrides(
                other.sampler != null ? other.sampler : sampler,
                other.steps != null || other.respacing != null ? other.steps : steps,
                other.steps != null || other.respacing != null ? other.respacing : respacing,
                other.eta != null ? other.eta : eta,
                other.guidanceScale != null ? other.guidanceScale : guidanceScale,
                other.clipRange != null ? other.clipRange : clipRange,
                other.classifierScale != null ? other.classifierScale : classifierScale,
                other.candidates != null ? other.candidates : candidates);
    }
}
