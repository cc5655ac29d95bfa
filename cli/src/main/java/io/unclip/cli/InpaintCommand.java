package io.unclip.cli;

import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.InpaintRequest;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.tensor.Tensor;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code unclip inpaint}: repaint the white part of a mask from a prompt, keeping the rest. */
@Command(name = "inpaint", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Inpaint (GLIDE-style): regenerate the white region of MASK from PROMPT, keeping the rest of"
                + " IMAGE. At every sampling step of the decoder and the upsamplers the known pixels are replaced"
                + " by the original noised to that step."},
        footer = {"", "IMAGE and MASK are square PNGs of the same size (resized to --size if needed).",
                "Exit status: 0 ok, 1 failed, 2 bad input, 3 missing or invalid model bundle."})
final class InpaintCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "IMAGE", description = "The image (PNG, square).")
    Path source;

    @Parameters(index = "1", paramLabel = "PROMPT", description = "What to paint in the masked region.")
    String prompt;

    @Option(names = "--mask", paramLabel = "MASK", required = true,
            description = "PNG of the same size: white = regenerate, black = keep.")
    Path mask;

    @Option(names = {"-n", "--num-images"}, paramLabel = "N", defaultValue = "1",
            description = "Number of images, 1..8. Default: ${DEFAULT-VALUE}.")
    int numImages;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "out.png",
            description = "Output PNG. Default: ${DEFAULT-VALUE}.")
    Path outFile;

    @Mixin
    PriorOptions prior;

    @Mixin
    ImageOptions image;

    @Override
    int run() throws Exception {
        Tensor pixels = readImage("image", source);
        Tensor maskPixels = readImage("mask", mask);
        InpaintRequest request = new InpaintRequest(pixels, maskPixels, prompt, numImages, image.seed(), image.size,
                image.overrides(prior.overrides(StageOverrides.none())), image.previewInterval());
        request.validate();
        output.previewsTo(image.previews);
        return interruptible(() -> {
            try (Cascade cascade = openCascade()) {
                GenerationResult r = cascade.inpaint(request, output, interruption().cancellation());
                summary(r, writeImages(r, outFile, false));
            }
            return ExitCodes.OK;
        });
    }
}
