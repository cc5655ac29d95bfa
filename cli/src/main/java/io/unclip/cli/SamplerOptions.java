package io.unclip.cli;

import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.SamplerOverrides;
import picocli.CommandLine.Option;

/**
 * Sampler options of the decoder and the upsamplers, each a {@link SamplerOverrides} over the
 * stage's manifest: steps or a respacing string (improved-diffusion's "25", "10,15,20",
 * "ddim25", or diffusers' "leading25", "trailing25", "linspace25"; the engine's Respacing parses
 * it), sampler, eta, guidance. Unset = the manifest's value. The prior's are in {@link PriorOptions}.
 */
public final class SamplerOptions {
    static final String RESPACING = " Respacing: \"25\", \"10,15,20\", \"ddim25\", \"leading25\", \"trailing25\" or"
            + " \"linspace25\"; give steps or respacing, not both.";

    @Option(names = "--decoder-steps", paramLabel = "N", description = "Decoder sampling steps.")
    Integer decoderSteps;

    @Option(names = "--decoder-respacing", paramLabel = "SPEC", description = "Decoder timestep respacing." + RESPACING)
    String decoderRespacing;

    @Option(names = {"--decoder-sampler", "--sampler"}, paramLabel = "ddpm|ddim|consistency", description = "Decoder sampler.")
    String decoderSampler;

    @Option(names = {"--decoder-eta", "--eta"}, paramLabel = "ETA",
            description = "Decoder DDIM eta in [0, 1] (with the ddim sampler).")
    Double decoderEta;

    @Option(names = "--decoder-guidance", paramLabel = "S", description = "Decoder classifier-free guidance scale.")
    Double decoderGuidance;

    @Option(names = "--classifier-guidance", paramLabel = "S",
            description = "ADM classifier guidance of the decoder towards the colour, shape and cell the prompt names"
                    + " for its main object, scale in [0, 100] (0 = off); needs a classifier stage in the bundle.")
    Double classifierGuidance;

    @Option(names = "--decoder-candidates", paramLabel = "K",
            description = "Decode K candidates of every image (1..8) and keep the one CLIP ranks closest to the"
                    + " prompt (without a prompt: to the image it varies); K times the decoder's work. Needs an"
                    + " image_encoder stage in the bundle.")
    Integer decoderCandidates;

    @Option(names = {"--sr-steps", "--upsampler-steps"}, paramLabel = "N",
            description = "Sampling steps of every upsampler.")
    Integer srSteps;

    @Option(names = {"--sr-respacing", "--upsampler-respacing"}, paramLabel = "SPEC",
            description = "Timestep respacing of every upsampler." + RESPACING)
    String srRespacing;

    @Option(names = {"--sr-sampler", "--upsampler-sampler"}, paramLabel = "ddpm|ddim|consistency",
            description = "Sampler of every upsampler.")
    String srSampler;

    @Option(names = {"--sr-eta", "--upsampler-eta"}, paramLabel = "ETA",
            description = "DDIM eta in [0, 1] of every upsampler (with the ddim sampler).")
    Double srEta;

    StageOverrides overrides(StageOverrides base) {
        SamplerOverrides d = base.decoder().overriddenBy(new SamplerOverrides(decoderSampler, decoderSteps,
                decoderRespacing, decoderEta, decoderGuidance, null, classifierGuidance, decoderCandidates));
        SamplerOverrides u = base.upsampler().overriddenBy(new SamplerOverrides(srSampler, srSteps, srRespacing, srEta,
                null, null));
        return base.withDecoder(d).withUpsampler(u);
    }

    /** Whether only the options PyTorch's reference (bench --torch) also takes are set. */
    boolean referenceCanFollow() {
        return decoderRespacing == null && classifierGuidance == null && decoderCandidates == null && srRespacing == null && srSampler == null && srEta == null;
    }
}
