package io.unclip.cli;

import io.unclip.engine.pipeline.StageOverrides;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options of every command that makes images: seed, size, decoder and upsampler sampling ({@link SamplerOptions}), previews. */
public final class ImageOptions {
    @Option(names = "--seed", paramLabel = "S",
            description = "Seed, 0 .. 18446744073709551615 (default: random, printed).")
    String seed;

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

    Long seed() {
        return parseSeed("--seed", seed);
    }

    static Long parseSeed(String option, String text) {
        if (text == null) {
            return null;
        }
        try {
            return Long.parseUnsignedLong(text.trim());
        } catch (NumberFormatException e) {
            throw CliException.badInput(option + ": '" + text + "' is not a seed (an integer from 0 to "
                    + Long.toUnsignedString(-1L) + ")");
        }
    }

    int previewInterval() {
        return previews == null ? 0 : previewInterval;
    }

    StageOverrides overrides(StageOverrides base) {
        return sampling.overrides(base);
    }
}
