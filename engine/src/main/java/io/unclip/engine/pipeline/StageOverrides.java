package io.unclip.engine.pipeline;

import io.unclip.engine.stage.SamplerOverrides;

/**
 * Per-request sampler overrides of the cascade's diffusion stages; every field of each defaults
 * to the stage's manifest.
 *
 * @param prior     the prior
 * @param decoder   the decoder
 * @param upsampler every upsampler step
 */
public record StageOverrides(SamplerOverrides prior, SamplerOverrides decoder, SamplerOverrides upsampler) {
    public StageOverrides {
        prior = prior == null ? SamplerOverrides.none() : prior;
        decoder = decoder == null ? SamplerOverrides.none() : decoder;
        upsampler = upsampler == null ? SamplerOverrides.none() : upsampler;
    }

    public static StageOverrides none() {
        return new StageOverrides(null, null, null);
    }

    public StageOverrides withPrior(SamplerOverrides o) {
        return new StageOverrides(o, decoder, upsampler);
    }

    public StageOverrides withDecoder(SamplerOverrides o) {
        return new StageOverrides(prior, o, upsampler);
    }

    public StageOverrides withUpsampler(SamplerOverrides o) {
        return new StageOverrides(prior, decoder, o);
    }
}
