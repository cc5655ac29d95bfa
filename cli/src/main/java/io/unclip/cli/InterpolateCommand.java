package io.unclip.cli;

import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.InterpolationRequest;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.tensor.Tensor;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code unclip interpolate}: frames between two images, or from an image towards a prompt. */
@Command(name = "interpolate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Interpolate between two images (slerp of their CLIP image embeddings), or move an image"
                + " towards a prompt (--towards: DALL-E 2 text diff, slerp from the image embedding towards"
                + " normalise(text(PROMPT) - text(source description))).",
                "Every frame is decoded with the same noise, so only the embedding changes."},
        footer = {"", "Frames are written as frame-0.png ... frame-<K-1>.png (from -o frame.png).",
                "Exit status: 0 ok, 1 failed, 2 bad input, 3 missing or invalid model bundle."})
final class InterpolateCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "IMAGE_A", description = "Start image (PNG).")
    Path imageA;

    @Parameters(index = "1", arity = "0..1", paramLabel = "IMAGE_B", description = "End image (PNG), or use --towards.")
    Path imageB;

    @Option(names = "--towards", paramLabel = "PROMPT", description = "Move IMAGE_A towards this prompt.")
    String towards;

    @Option(names = "--from", paramLabel = "TEXT",
            description = "With --towards: a description of IMAGE_A (default: the captioner's descriptive caption,"
                    + " or the empty prompt without a captioner).")
    String from;

    @Option(names = "--max-angle", paramLabel = "T", defaultValue = "0.5",
            description = "With --towards: slerp position of the last frame, in (0, 1]. Default: ${DEFAULT-VALUE}.")
    double maxAngle;

    @Option(names = "--frames", paramLabel = "K", defaultValue = "8",
            description = "Frames including both ends, 2..32. Default: ${DEFAULT-VALUE}.")
    int frames;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "frame.png",
            description = "Output name; frames get -0, -1, ... Default: ${DEFAULT-VALUE}.")
    Path outFile;

    @Mixin
    ImageOptions image;

    @Override
    int run() throws Exception {
        if ((imageB == null) == (towards == null)) {
            throw CliException.badInput("give IMAGE_B or --towards PROMPT (exactly one)");
        }
        Tensor a = readImage("image", imageA);
        Tensor b = imageB == null ? null : readImage("image", imageB);
        InterpolationRequest request = new InterpolationRequest(a, b, towards, from, frames, maxAngle, image.seed(),
                image.size, image.overrides(StageOverrides.none()), image.previewInterval());
        request.validate();
        output.previewsTo(image.previews);
        return interruptible(() -> {
            try (Cascade cascade = openCascade()) {
                GenerationResult r = cascade.interpolate(request, output, interruption().cancellation());
                summary(r, writeImages(r, outFile, true));
            }
            return ExitCodes.OK;
        });
    }
}
