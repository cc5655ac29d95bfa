package io.unclip.cli;

import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.StageOverrides;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code unclip generate}: text to image, one prompt or a JSONL file of them. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate images from a text prompt: text encoder, prior, decoder, then the upsamplers up to"
                + " --size.",
                "Batch mode: --prompts FILE.jsonl --out-dir DIR, one JSON object per line with \"id\", \"prompt\""
                        + " and optionally \"seed\" (other fields are ignored); each line's images go to"
                        + " DIR/<id>.png (DIR/<id>-<i>.png with -n > 1). Bad lines are reported with their line"
                        + " number and the other lines still run; the exit status is 1 if any line failed."},
        footer = {"", "Several images (-n > 1) are written as out-0.png, out-1.png, ... (from -o out.png).",
                "Exit status: 0 ok, 1 failed, 2 bad input, 3 missing or invalid model bundle."})
final class GenerateCommand extends BaseCommand {

    @Parameters(index = "0", arity = "0..1", paramLabel = "PROMPT", description = "What to draw.")
    String prompt;

    @Option(names = {"-n", "--num-images"}, paramLabel = "N", defaultValue = "1",
            description = "Images per prompt, 1..8, sampled as one batch. Default: ${DEFAULT-VALUE}.")
    int numImages;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "out.png",
            description = "Output PNG. Default: ${DEFAULT-VALUE}.")
    Path outFile;

    @Option(names = "--prompts", paramLabel = "FILE.jsonl", description = "Batch mode: prompts, one JSON object a line.")
    Path prompts;

    @Option(names = "--out-dir", paramLabel = "DIR", description = "Batch mode: where the images go.")
    Path outDir;

    @Mixin
    PriorOptions prior;

    @Mixin
    ImageOptions image;

    @Override
    int run() throws Exception {
        if (prompts != null) {
            return interruptible(this::batch);
        }
        if (outDir != null) {
            throw CliException.badInput("--out-dir is for batch mode (--prompts FILE.jsonl); use -o FILE");
        }
        if (prompt == null) {
            throw CliException.badInput("a PROMPT is required (or --prompts FILE.jsonl)");
        }
        GenerationRequest request = request(prompt, image.seed());
        request.validate(); // bad input is reported before the models load
        output.previewsTo(image.previews);
        return interruptible(() -> {
            try (Cascade cascade = openCascade()) {
                GenerationResult r = cascade.generate(request, output, interruption().cancellation());
                summary(r, writeImages(r, outFile, false));
            }
            return ExitCodes.OK;
        });
    }

    private GenerationRequest request(String text, Long seed) {
        StageOverrides o = image.overrides(prior.overrides(StageOverrides.none()));
        return GenerationRequest.of(text).withNumImages(numImages).withSeed(seed).withSize(image.size)
                .withOverrides(o).withPreviewInterval(image.previewInterval()).withPriorCandidates(prior.candidates);
    }

    private int batch() throws IOException {
        if (prompt != null) {
            throw CliException.badInput("give a PROMPT or --prompts FILE.jsonl, not both");
        }
        if (outDir == null) {
            throw CliException.badInput("--out-dir DIR is required with --prompts");
        }
        List<String> lines = PromptLines.read(environment().workDir().resolve(prompts), prompts);
        request("a", null).validate(); // the options every line shares
        Path dir = environment().workDir().resolve(outDir);
        PromptLines parser = new PromptLines();
        int failed = 0;
        int done = 0;
        int total = 0;
        output.previewsTo(image.previews);
        try (Cascade cascade = openCascade()) {
            for (int i = 0; i < lines.size(); i++) {
                String text = lines.get(i);
                if (text.isBlank()) {
                    continue;
                }
                total++;
                int number = i + 1;
                output.context("");
                PromptLines.Line line;
                try {
                    line = parser.parse(number, text);
                } catch (CliException e) {
                    output.error("line " + number + ": " + e.getMessage());
                    failed++;
                    continue;
                }
                output.context(line.id());
                if (interruption().requested()) { // Ctrl-C while the previous line's images were written
                    throw new SamplingCancelledException(0, 0);
                }
                try {
                    GenerationResult r = cascade.generate(request(line.prompt(), line.seed()), output,
                            interruption().cancellation());
                    writeImages(r, dir.resolve(line.id() + ".png"), false);
                    done++;
                } catch (SamplingCancelledException e) {
                    // Ctrl-C: the lines already written stay; report and stop (exit 130)
                    output.context("");
                    output.info("batch: " + done + " of " + total + " prompts done before the interruption");
                    throw e;
                } catch (Exception e) {
                    output.context("");
                    output.error("line " + number + " (" + line.id() + "): " + message(e));
                    failed++;
                }
            }
        }
        output.context("");
        output.event("batch_finished", Output.map("lines", total, "done", done, "failed", failed));
        output.info("batch: " + done + " of " + total + " prompts done" + (failed > 0 ? ", " + failed + " failed" : ""));
        return failed > 0 ? ExitCodes.FAILED : ExitCodes.OK;
    }
}
