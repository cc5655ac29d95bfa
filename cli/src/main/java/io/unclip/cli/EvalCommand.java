package io.unclip.cli;

import io.unclip.cli.eval.EvalPrompt;
import io.unclip.cli.eval.EvalResults;
import io.unclip.cli.eval.EvalTable;
import io.unclip.cli.eval.Evaluation;
import io.unclip.cli.eval.PromptSet;
import io.unclip.engine.pipeline.CascadeListener;
import io.unclip.engine.pipeline.StageOverrides;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code unclip eval}: prompt following and image statistics of the embedded cascade on Shapes-World prompts.
 * For every prompt it generates {@code -n} images (one batch), renders as many reference scenes that satisfy the
 * prompt, and measures both with the shapes-world judge and the bundle's own image encoder, text encoder and
 * captioner (metric definitions in {@link EvalResults} and cli/README.md). The work is an {@link Evaluation};
 * this command turns the options into its settings and its progress and report into output.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate the cascade on Shapes-World prompts: prompt following per attribute (SceneJudge,"
                + " GenEval-style), CLIP score (the bundle's mini-CLIP), FID against rendered references (bundle"
                + " image-encoder features), IS over the captioner's (colour, shape) labels, and captioner agreement.",
                "Prompts: the fixed default set (" + PromptSet.DEFAULT_COUNT + " prompts of scene seed "
                        + PromptSet.DEFAULT_SEED + ": 60%% one object, descriptive; 40%% two objects, relational),"
                        + " --count N / --seed S for another balanced set, or --prompts FILE.jsonl (\"prompt\","
                        + " optional \"id\" and \"seed\"). The set used is written to DIR/prompts.jsonl.",
                "Writes DIR/<id>-<i>.png, DIR/references/<id>-<i>.png and the report DIR/eval.json."},
        footer = {"", "Exit status: 0 ok, 1 failed, 2 bad input, 3 missing or invalid model bundle."})
final class EvalCommand extends BaseCommand {
    @Option(names = "--prompts", paramLabel = "FILE.jsonl",
            description = "Prompts, one JSON object a line: \"prompt\", optional \"id\" and \"seed\".")
    Path prompts;

    @Option(names = "--count", paramLabel = "N",
            description = "Prompts in the generated set (default " + PromptSet.DEFAULT_COUNT + ").")
    Integer count;

    @Option(names = "--seed", paramLabel = "S", converter = UnsignedSeed.class,
            description = "Seed of the generated prompt set, and of the image seeds of prompts-file lines without one"
                    + " (default " + PromptSet.DEFAULT_SEED + ").")
    Long seed;

    @Option(names = {"-n", "--num-images"}, paramLabel = "N", defaultValue = "4",
            description = "Images per prompt, 1..8, sampled as one batch. Default: ${DEFAULT-VALUE}.")
    int numImages;

    @Option(names = "--size", paramLabel = "PX",
            description = "Image size: one of the bundle's sizes, e.g. 32, 128 or 512 (default: the largest).")
    Integer size;

    @Option(names = "--out-dir", paramLabel = "DIR", defaultValue = "eval-out",
            description = "Where images, prompts.jsonl and eval.json go. Default: ${DEFAULT-VALUE}.")
    Path outDir;

    @Option(names = "--json-out", paramLabel = "FILE", description = "The report (default: DIR/eval.json).")
    Path jsonOut;

    @Option(names = "--caption-style", paramLabel = "STYLE", defaultValue = "descriptive",
            description = "Captioner style for agreement and IS. Default: ${DEFAULT-VALUE}.")
    String captionStyle;

    @Mixin
    PriorOptions prior;

    @Mixin
    SamplerOptions sampling;

    @Override
    int run() {
        long setSeed = seed == null ? PromptSet.DEFAULT_SEED : seed;
        List<EvalPrompt> set = promptSet(setSeed);
        Evaluation evaluation;
        Evaluation.Report report;
        try {
            Evaluation.checkReferences(set);
            evaluation = new Evaluation(settings(set, setSeed), set, new Progress());
            evaluation.request(set.get(0)).validate(); // -n, --candidates: before the models load
            evaluation.prepare();
            report = evaluation.run(this::openCascade);
        } catch (Evaluation.EvalException e) {
            throw new CliException(switch (e.kind()) {
                case BAD_INPUT -> ExitCodes.BAD_INPUT;
                case BAD_BUNDLE -> ExitCodes.BAD_BUNDLE;
                case FAILED -> ExitCodes.FAILED;
            }, e.getMessage(), e.getCause());
        }
        Map<String, Object> summary = new LinkedHashMap<>(report.document());
        summary.remove("images");
        output.event("eval", summary);
        if (!output.json()) {
            EvalTable.lines(report.results(), report.captionStyle(), report.size(), report.prompts(),
                    report.featureDims()).forEach(output::info);
        }
        String file = evaluation.shown(evaluation.settings().reportFile());
        int images = report.results().generated().images();
        output.event("done", Output.map("report", file, "images", images,
                "wall_seconds", EvalResults.round(report.seconds())));
        output.info(String.format(Locale.ROOT, "done: %d images in %.1f s; report %s", images, report.seconds(), file));
        return ExitCodes.OK;
    }

    private Evaluation.Settings settings(List<EvalPrompt> set, long setSeed) {
        Path wd = environment().workDir();
        Path dir = wd.resolve(outDir);
        return new Evaluation.Settings(numImages, size, captionStyle,
                sampling.overrides(prior.overrides(StageOverrides.none())), wd, dir,
                jsonOut == null ? dir.resolve("eval.json") : wd.resolve(jsonOut),
                prompts != null ? Output.map("source", prompts.toString(), "prompts", set.size())
                        : Output.map("source", "generated", "seed", Long.toUnsignedString(setSeed), "prompts",
                        set.size()));
    }

    /** The evaluation's progress as output: one line and one event per prompt. */
    private final class Progress implements Evaluation.Progress {
        @Override
        public CascadeListener cascadeListener() {
            return output.json() ? output : new CascadeListener() {
                @Override
                public void warning(String message) {
                    output.warning(message);
                }
            };
        }

        @Override
        public void warning(String message) {
            output.warning(message);
        }

        @Override
        public void started(int prompts, int numImages, int size, String bundleName, String bundleVersion) {
            output.info(String.format(Locale.ROOT, "eval: %d prompts x %d image%s at %dx%d, bundle %s %s; writing to %s",
                    prompts, numImages, numImages == 1 ? "" : "s", size, size, bundleName, bundleVersion, outDir));
            output.event("eval_started", Output.map("prompts", prompts, "num_images", numImages, "size", size,
                    "out_dir", outDir.toString(), "bundle", bundleName + " " + bundleVersion));
        }

        @Override
        public void generating(EvalPrompt p) {
            output.context(p.id());
        }

        @Override
        public void generated(EvalPrompt p) {
            output.context("");
        }

        @Override
        public void scored(EvalPrompt p, int index, int of, int images, int allCorrect, List<String> files) {
            output.event("eval_prompt", Output.map("id", p.id(), "index", index, "of", of,
                    "prompt", p.prompt(), "images", images, "all_correct", allCorrect, "files", files));
            output.info(String.format(Locale.ROOT, "[%d/%d] %s: %d/%d all correct  \"%s\"", index, of,
                    p.id(), allCorrect, images, p.prompt()));
        }
    }

    // ---- prompts ----

    private List<EvalPrompt> promptSet(long setSeed) {
        if (prompts != null) {
            if (count != null) {
                throw CliException.badInput("give --prompts FILE.jsonl or --count N, not both");
            }
            Path file = environment().workDir().resolve(prompts);
            try {
                return PromptSet.read(file, setSeed);
            } catch (NoSuchFileException e) {
                throw CliException.badInput("cannot read prompts file " + prompts + ": no such file");
            } catch (AccessDeniedException e) {
                throw CliException.badInput("cannot read prompts file " + prompts + ": permission denied");
            } catch (MalformedInputException e) {
                throw CliException.badInput("prompts file " + prompts + " is not UTF-8 text");
            } catch (IOException e) {
                throw CliException.badInput("cannot read prompts file " + prompts + ": " + e.getMessage());
            } catch (PromptSet.PromptsFileException e) {
                throw CliException.badInput("prompts file " + prompts + ": " + e.getMessage());
            }
        }
        int n = count == null ? PromptSet.DEFAULT_COUNT : count;
        if (n < 1 || n > PromptSet.MAX_COUNT) {
            throw CliException.badInput("--count: must be between 1 and " + PromptSet.MAX_COUNT + ", got " + n);
        }
        return PromptSet.generate(setSeed, n);
    }
}
