package io.unclip.cli;

import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.PriorStage;
import io.unclip.engine.stage.SamplerOverrides;
import picocli.CommandLine.Option;

/** Options of the commands that run the prior. */
public final class PriorOptions {
    @Option(names = "--prior-steps", paramLabel = "N", description = "Prior sampling steps.")
    Integer priorSteps;

    @Option(names = "--prior-guidance", paramLabel = "S", description = "Prior classifier-free guidance scale.")
    Double priorGuidance;

    @Option(names = "--candidates", paramLabel = "N", defaultValue = "" + PriorStage.DEFAULT_CANDIDATES,
            description = "Prior samples per image; the one closest to the prompt is kept. Default: ${DEFAULT-VALUE}.")
    int candidates;

    StageOverrides overrides(StageOverrides base) {
        return base.withPrior(base.prior().overriddenBy(SamplerOverrides.none().withSteps(priorSteps)
                .withGuidanceScale(priorGuidance)));
    }
}
