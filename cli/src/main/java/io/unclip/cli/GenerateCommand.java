package io.unclip.cli;

import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.StageOverrides;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
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
                        + " DIR/<id>.png (DIR/<id>-<i>.png with -n > 1); --concurrency N runs N lines at once."
                        + " Bad lines are reported with their line"
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

    @Option(names = {"-c", "--concurrency"}, paramLabel = "N", defaultValue = "1",
            description = "Batch mode: lines in flight at once, 1..256; their denoising steps share model calls."
                    + " Default: ${DEFAULT-VALUE}.")
    int concurrency;

    @Mixin
    PriorOptions prior;

    @Mixin
    ImageOptions image;

    @Override
    int run() throws Exception {
        if (prompts != null) {
            return interruptible(this::batch);
        }
        if (concurrency != 1) {
            throw CliException.badInput("--concurrency is for batch mode (--prompts FILE.jsonl)");
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
                .withOverrides(o).withPreviewInterval(image.previewInterval());
    }

    private int batch() throws IOException, InterruptedException {
        if (concurrency < 1 || concurrency > 256) {
            throw CliException.badInput("--concurrency: must be between 1 and 256, got " + concurrency);
        }
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
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicReference<SamplingCancelledException> cancelled = new AtomicReference<>(); // Ctrl-C: the first line stopped
        int total = 0;
        output.previewsTo(image.previews);
        // Lines are read in order on this thread, a line starting once one of the N slots is free:
        // with N = 1 each line runs after the last, as before; with more, the cascade's step
        // schedulers batch the lines in flight.
        Semaphore slots = new Semaphore(concurrency);
        ExecutorService runners = Executors.newFixedThreadPool(concurrency, r -> {
            Thread t = new Thread(r, "unclip-batch");
            t.setDaemon(true);
            return t;
        });
        try (Cascade cascade = openCascade()) {
            try {
                for (int i = 0; i < lines.size(); i++) {
                    String text = lines.get(i);
                    if (text.isBlank()) {
                        continue;
                    }
                    total++;
                    slots.acquire();
                    if (interruption().requested()) { // start no more lines
                        slots.release();
                        break;
                    }
                    int number = i + 1;
                    PromptLines.Line line;
                    try {
                        line = parser.parse(number, text);
                    } catch (CliException e) {
                        output.error("line " + number + ": " + e.getMessage());
                        failed.incrementAndGet();
                        slots.release();
                        continue;
                    }
                    Output lineOutput = output.forLine(line.id(), concurrency == 1);
                    runners.execute(() -> {
                        try {
                            GenerationResult r = cascade.generate(request(line.prompt(), line.seed()), lineOutput,
                                    interruption().cancellation());
                            writeImages(r, dir.resolve(line.id() + ".png"), false, lineOutput);
                            done.incrementAndGet();
                        } catch (SamplingCancelledException e) {
                            cancelled.compareAndSet(null, e); // the lines already written stay
                        } catch (Exception e) {
                            output.error("line " + number + " (" + line.id() + "): " + message(e));
                            failed.incrementAndGet();
                        } finally {
                            slots.release();
                        }
                    });
                }
            } finally {
                slots.acquire(concurrency); // every line started has ended
                runners.shutdown();
            }
        }
        if (cancelled.get() != null || interruption().requested()) {
            output.info("batch: " + done + " of " + total + " prompts done before the interruption");
            throw cancelled.get() != null ? cancelled.get() : new SamplingCancelledException(0, 0);
        }
        output.event("batch_finished", Output.map("lines", total, "done", done.get(), "failed", failed.get()));
        output.info("batch: " + done + " of " + total + " prompts done" + (failed.get() > 0 ? ", " + failed + " failed"
                : ""));
        return failed.get() > 0 ? ExitCodes.FAILED : ExitCodes.OK;
    }
}
