package io.unclip.cli;

import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.pipeline.VariationsRequest;
import io.unclip.engine.tensor.Tensor;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code unclip variations}: image to image embedding to decoder and upsamplers. */
@Command(name = "variations", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Variations of an image (DALL-E 2): its CLIP image embedding is decoded again with fresh noise.",
        footer = {"", "Several images (-n > 1) are written as out-0.png, out-1.png, ... (from -o out.png).",
                "Exit status: 0 ok, 1 failed, 2 bad input, 3 missing or invalid model bundle."})
final class VariationsCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "IMAGE", description = "Source PNG (any size).")
    Path source;

    @Option(names = {"-n", "--num-images"}, paramLabel = "N", defaultValue = "1",
            description = "Number of variations, 1..8. Default: ${DEFAULT-VALUE}.")
    int numImages;

    @Option(names = "--prompt", paramLabel = "TEXT",
            description = "Optional text for the decoder's text conditioning (default: none).")
    String prompt;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "out.png",
            description = "Output PNG. Default: ${DEFAULT-VALUE}.")
    Path outFile;

    @Mixin
    ImageOptions image;

    @Override
    int run() throws Exception {
        Tensor pixels = readImage("image", source);
        VariationsRequest request = new VariationsRequest(pixels, numImages, image.seed(), image.size,
                image.overrides(StageOverrides.none()), prompt, image.previewInterval());
        request.validate();
        output.previewsTo(image.previews);
        return interruptible(() -> {
            try (Cascade cascade = openCascade()) {
                GenerationResult r = cascade.variations(request, output, interruption().cancellation());
                summary(r, writeImages(r, outFile, false));
            }
            return ExitCodes.OK;
        });
    }
}
