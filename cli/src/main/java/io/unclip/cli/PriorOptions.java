package io.unclip.cli;

import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.SamplerOverrides;
import picocli.CommandLine.Option;

/** Options of the commands that run the prior. */
public final class PriorOptions {
    @Option(names = "--prior-steps", paramLabel = "N", description = "Prior sampling steps.")
    Integer priorSteps;

    @Option(names = "--prior-respacing", paramLabel = "SPEC",
            description = "Prior timestep respacing." + SamplerOptions.RESPACING)
    String priorRespacing;

    @Option(names = "--prior-sampler", paramLabel = "ddpm|ddim|consistency", description = "Prior sampler.")
    String priorSampler;

    @Option(names = "--prior-eta", paramLabel = "ETA", description = "Prior DDIM eta in [0, 1] (with the ddim sampler).")
    Double priorEta;

    @Option(names = "--prior-guidance", paramLabel = "S", description = "Prior classifier-free guidance scale.")
    Double priorGuidance;

    @Option(names = "--candidates", paramLabel = "N",
            description = "Prior samples per image, 1..8; the one closest to the prompt is kept. Default: the"
                    + " prior manifest's (2, as in DALL-E 2).")
    Integer candidates;

    StageOverrides overrides(StageOverrides base) {
        return base.withPrior(base.prior().overriddenBy(new SamplerOverrides(priorSampler, priorSteps, priorRespacing,
                priorEta, priorGuidance, null, null, candidates).check("prior")));
    }

    /** Whether only the options PyTorch's reference (bench --torch) also takes are set. */
    boolean referenceCanFollow() {
        return priorRespacing == null && priorSampler == null && priorEta == null;
    }
}
