package io.unclip.engine.stage;

/**
 * Per-request changes to a diffusion stage's manifest defaults; a null field keeps the default.
 *
 * @param sampler       "ddpm" or "ddim"
 * @param steps         number of sampling steps, 1..train_timesteps: shorthand for a respacing
 *                      string ("ddimN" when the manifest's default respacing is a ddim stride and
 *                      N has one, else "N", evenly spread); not together with {@code respacing}
 * @param respacing     an improved-diffusion respacing string ("25", "10,15,20", "ddim25")
 * @param eta           DDIM noise scale in [0, 1]; only with the ddim sampler
 * @param guidanceScale classifier-free guidance scale in [0, 50] (1 = conditional only)
 * @param clipRange     x0 clamp to [-r, r], r > 0; {@code Double.POSITIVE_INFINITY} = no clamp
 */
public record SamplerOverrides(String sampler, Integer steps, String respacing, Double eta, Double guidanceScale,
                               Double clipRange) {
    private static final SamplerOverrides NONE = new SamplerOverrides(null, null, null, null, null, null);

    /** Every field from the manifest. */
    public static SamplerOverrides none() {
        return NONE;
    }

    public boolean isEmpty() {
        return equals(NONE);
    }

    public SamplerOverrides withSampler(String s) {
        return new SamplerOverrides(s, steps, respacing, eta, guidanceScale, clipRange);
    }

    public SamplerOverrides withSteps(Integer n) {
        return new SamplerOverrides(sampler, n, respacing, eta, guidanceScale, clipRange);
    }

    public SamplerOverrides withRespacing(String r) {
        return new SamplerOverrides(sampler, steps, r, eta, guidanceScale, clipRange);
    }

    public SamplerOverrides withEta(Double e) {
        return new SamplerOverrides(sampler, steps, respacing, e, guidanceScale, clipRange);
    }

    public SamplerOverrides withGuidanceScale(Double g) {
        return new SamplerOverrides(sampler, steps, respacing, eta, g, clipRange);
    }

    public SamplerOverrides withClipRange(Double c) {
        return new SamplerOverrides(sampler, steps, respacing, eta, guidanceScale, c);
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
                other.clipRange != null ? other.clipRange : clipRange);
    }
}
