package io.unclip.cli;

import io.unclip.engine.pipeline.StageOverrides;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options of every command that makes images: seed, size, decoder and upsampler sampling ({@link SamplerOptions}), previews. */
public final class ImageOptions {
    @Option(names = "--seed", paramLabel = "S", converter = UnsignedSeed.class,
            description = "Seed, 0 .. 18446744073709551615 (default: random, printed).")
    Long seed;

    @Option(names = "--size", paramLabel = "PX",
            description = "Output size: one of the bundle's sizes, e.g. 32, 128 or 512 (default: the largest).")
    Integer size;

    @Mixin
    SamplerOptions sampling;

    @Option(names = "--previews", paramLabel = "DIR", description = "Write x0 previews (PNG) to DIR while sampling.")
    Path previews;

    @Option(names = "--preview-interval", paramLabel = "N", defaultValue = "5",
            description = "With --previews: a preview every N steps (and the last). Default: ${DEFAULT-VALUE}.")
    int previewInterval;

    /** The seed (its bits: above 2^63 - 1 it is negative as a long), or null for a random one. */
    Long seed() {
        return seed;
    }

    int previewInterval() {
        return previews == null ? 0 : previewInterval;
    }

    StageOverrides overrides(StageOverrides base) {
        return sampling.overrides(base);
    }
}
