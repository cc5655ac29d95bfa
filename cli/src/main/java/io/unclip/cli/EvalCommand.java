package io.unclip.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.unclip.cli.eval.AttributeTally;
import io.unclip.cli.eval.CaptionLabels;
import io.unclip.cli.eval.EvalPrompt;
import io.unclip.cli.eval.EvalResults;
import io.unclip.cli.eval.Images;
import io.unclip.cli.eval.PromptSet;
import io.unclip.cli.eval.ReferenceScenes;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.CascadeListener;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.Caption;
import io.unclip.engine.stage.CaptionerStage;
import io.unclip.engine.stage.ImageEncoderStage;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.stage.RunContext;
import io.unclip.engine.stage.TextEncoderStage;
import io.unclip.engine.tensor.Tensor;
import io.unclip.shapes.CaptionParser;
import io.unclip.shapes.Judgement;
import io.unclip.shapes.PromptSpec;
import io.unclip.shapes.RgbImage;
import io.unclip.shapes.SceneJudge;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * captioner (metric definitions in {@link EvalResults} and cli/README.md).
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
    /** Texts per text-encoder call. */
    private static final int TEXT_BATCH = 16;

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
    int run() throws IOException {
        long setSeed = seed == null ? PromptSet.DEFAULT_SEED : seed;
        List<EvalPrompt> set = promptSet(setSeed);
        checkReferences(set);
        GenerationRequest template = request(set.get(0));
        template.validate(); // -n, --candidates: before the models load
        Path dir = environment().workDir().resolve(outDir);
        Path report = jsonOut == null ? dir.resolve("eval.json") : environment().workDir().resolve(jsonOut);
        Path refDir = dir.resolve("references");
        try {
            Files.createDirectories(refDir);
            PromptSet.write(dir.resolve("prompts.jsonl"), set);
        } catch (IOException e) {
            throw new CliException(ExitCodes.FAILED, "cannot write to " + outDir + ": " + e.getMessage(), e);
        }

        long t0 = System.nanoTime();
        EvalResults results = new EvalResults();
        Map<String, Object> sampling = null;
        String style;
        int resolved;
        String bundleName;
        String bundleVersion;
        int featureDims;
        try (Cascade cascade = openCascade()) {
            bundleName = cascade.bundle().name();
            bundleVersion = cascade.bundle().version();
            TextEncoderStage text = require(cascade, cascade.textEncoder().orElse(null), "text_encoder",
                    "generation and the CLIP score");
            require(cascade, cascade.prior().orElse(null), "prior", "generation");
            require(cascade, cascade.decoder().orElse(null), "decoder", "generation");
            ImageEncoderStage imageEncoder = require(cascade, cascade.imageEncoder().orElse(null), "image_encoder",
                    "the CLIP score and FID");
            CaptionerStage captioner = require(cascade, cascade.captioner().orElse(null), "captioner",
                    "captioner agreement and IS");
            style = captionStyle(captioner);
            resolved = resolveSize(cascade);
            for (EvalPrompt p : set) {
                try {
                    text.checkPrompt("prompt", p.prompt());
                } catch (InvalidRequestException e) {
                    throw CliException.badInput("prompt " + p.id() + " '" + p.prompt() + "' " + e.getMessage()
                            .substring("prompt".length()).trim());
                }
            }
            List<float[]> textEmbeds = textEmbeds(text, set);
            output.info(String.format(Locale.ROOT, "eval: %d prompts x %d image%s at %dx%d, bundle %s %s; writing to %s",
                    set.size(), numImages, numImages == 1 ? "" : "s", resolved, resolved, bundleName, bundleVersion,
                    outDir));
            output.event("eval_started", Output.map("prompts", set.size(), "num_images", numImages, "size", resolved,
                    "out_dir", outDir.toString(), "bundle", bundleName + " " + bundleVersion));
            CascadeListener listener = output.json() ? output : new CascadeListener() {
                @Override
                public void warning(String message) {
                    output.warning(message);
                }
            };
            PngCodec png = PngCodec.withDefaultLimits();
            for (int k = 0; k < set.size(); k++) {
                EvalPrompt p = set.get(k);
                output.context(p.id());
                GenerationResult r = cascade.generate(request(p).withSize(resolved), listener, null);
                if (sampling == null) {
                    sampling = r.parameters().toMap();
                }
                output.context("");
                List<RgbImage> gen = new ArrayList<>();
                List<String> files = new ArrayList<>();
                for (int i = 0; i < r.count(); i++) {
                    int index = i;
                    Path file = dir.resolve(p.id() + "-" + i + ".png");
                    write(() -> png.write(r.images(), index, r.parameters().pngText(index), file), file);
                    files.add(shown(file));
                    gen.add(Images.toRgb(r.images(), i));
                }
                List<RgbImage> refs = ReferenceScenes.render(p, r.count(), resolved);
                for (int i = 0; i < refs.size(); i++) {
                    Path file = refDir.resolve(p.id() + "-" + i + ".png");
                    RgbImage img = refs.get(i);
                    write(() -> img.writePng(file), file);
                }
                List<RgbImage> both = new ArrayList<>(gen);
                both.addAll(refs);
                Tensor pixels = Images.toTensor(both);
                Tensor embeds = imageEncoder.encode(pixels, RunContext.quiet());
                List<Caption> captions = captioner.caption(pixels, style, 0, null, RunContext.quiet());
                float[] te = textEmbeds.get(k);
                int correct = 0;
                for (int i = 0; i < both.size(); i++) {
                    boolean isRef = i >= gen.size();
                    Judgement j = SceneJudge.judge(both.get(i), p.spec());
                    String caption = captions.get(i).text();
                    PromptSpec parsed = parse(caption);
                    float[] feature = row(embeds, i);
                    if (isRef) {
                        results.addReference(p, j, feature, te, parsed);
                    } else {
                        results.addGenerated(p, i, files.get(i), j, feature, te, caption, parsed);
                        correct += j.allCorrect() ? 1 : 0;
                    }
                }
                output.event("eval_prompt", Output.map("id", p.id(), "index", k + 1, "of", set.size(),
                        "prompt", p.prompt(), "images", gen.size(), "all_correct", correct, "files", files));
                output.info(String.format(Locale.ROOT, "[%d/%d] %s: %d/%d all correct  \"%s\"", k + 1, set.size(),
                        p.id(), correct, gen.size(), p.prompt()));
            }
            featureDims = results.generated().features().isEmpty() ? 0
                    : results.generated().features().get(0).length;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("bundle", Output.map("name", bundleName, "version", bundleVersion));
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("prompt_set", prompts != null ? Output.map("source", prompts.toString(), "prompts", set.size())
                : Output.map("source", "generated", "seed", Long.toUnsignedString(setSeed), "prompts", set.size()));
        run.put("prompts_file", shown(dir.resolve("prompts.jsonl")));
        run.put("num_images", numImages);
        run.put("size", resolved);
        run.put("images", results.generated().images());
        run.put("feature_dims", featureDims);
        run.put("caption_style", style);
        run.put("wall_seconds", EvalResults.round(seconds));
        if (sampling != null) {
            Map<String, Object> s = new LinkedHashMap<>(sampling);
            s.remove("prompt");
            s.remove("seed");
            run.put("sampling", s);
        }
        doc.put("run", run);
        doc.putAll(results.metrics(style));
        doc.put("images", results.perImage());
        try {
            if (report.getParent() != null) {
                Files.createDirectories(report.getParent());
            }
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(report.toFile(), doc);
        } catch (IOException e) {
            throw new CliException(ExitCodes.FAILED, "cannot write " + jsonOut + ": " + e.getMessage(), e);
        }
        Map<String, Object> summary = new LinkedHashMap<>(doc);
        summary.remove("images");
        output.event("eval", summary);
        printTable(results, style, resolved, set.size(), featureDims);
        output.event("done", Output.map("report", shown(report), "images", results.generated().images(),
                "wall_seconds", EvalResults.round(seconds)));
        output.info(String.format(Locale.ROOT, "done: %d images in %.1f s; report %s", results.generated().images(),
                seconds, shown(report)));
        return ExitCodes.OK;
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

    /** Every prompt must have a reference scene: checked before the models load. */
    private static void checkReferences(List<EvalPrompt> set) {
        for (EvalPrompt p : set) {
            try {
                ReferenceScenes.sample(p.spec(), new io.unclip.shapes.SplitMix64(p.seed()));
            } catch (IllegalArgumentException e) {
                throw CliException.badInput("prompt " + p.id() + " '" + p.prompt() + "': " + e.getMessage());
            }
        }
    }

    private GenerationRequest request(EvalPrompt p) {
        StageOverrides o = sampling.overrides(prior.overrides(StageOverrides.none()));
        return GenerationRequest.of(p.prompt()).withNumImages(numImages).withSeed(p.seed()).withSize(size)
                .withOverrides(o).withPriorCandidates(prior.candidates);
    }

    // ---- models ----

    private static <T> T require(Cascade cascade, T stage, String kind, String what) {
        if (stage == null) {
            throw new CliException(ExitCodes.BAD_BUNDLE, "bundle '" + cascade.bundle().name() + "' has no " + kind
                    + " stage, which eval needs for " + what);
        }
        return stage;
    }

    private String captionStyle(CaptionerStage captioner) {
        if (captioner.styles().isEmpty()) {
            if (!captionStyle.equals("descriptive") && !captionStyle.equals("default")) {
                throw CliException.badInput("--caption-style: this captioner has no caption styles");
            }
            output.warning("the captioner has no caption styles; its captions are compared as they come");
            return null;
        }
        if (!captioner.styles().contains(captionStyle)) {
            throw CliException.badInput("--caption-style: '" + captionStyle + "' is not a style of this captioner ("
                    + String.join(", ", captioner.styles()) + ")");
        }
        return captionStyle;
    }

    private int resolveSize(Cascade cascade) {
        List<Integer> sizes = cascade.sizes();
        if (size == null) {
            return sizes.get(sizes.size() - 1);
        }
        if (!sizes.contains(size)) {
            throw CliException.badInput("--size " + size + " is not a size this bundle makes; it makes "
                    + String.join(", ", sizes.stream().map(String::valueOf).toList()));
        }
        return size;
    }

    private static List<float[]> textEmbeds(TextEncoderStage text, List<EvalPrompt> set) {
        List<float[]> out = new ArrayList<>();
        for (int start = 0; start < set.size(); start += TEXT_BATCH) {
            List<String> batch = set.subList(start, Math.min(set.size(), start + TEXT_BATCH)).stream()
                    .map(EvalPrompt::prompt).toList();
            var cond = text.encode(batch, RunContext.quiet());
            for (int i = 0; i < batch.size(); i++) {
                out.add(cond.embedding(i));
            }
        }
        return out;
    }

    private static PromptSpec parse(String caption) {
        try {
            return CaptionParser.parse(caption);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static float[] row(Tensor t, int r) {
        int d = (int) t.dim(1);
        float[] out = new float[d];
        t.buffer().get(r * d, out);
        return out;
    }

    // ---- files ----

    private interface Writing {
        void run() throws IOException;
    }

    private static void write(Writing w, Path file) {
        try {
            w.run();
        } catch (IOException e) {
            throw new CliException(ExitCodes.FAILED, "cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private String shown(Path file) {
        Path wd = environment().workDir();
        return file.startsWith(wd) ? wd.relativize(file).toString() : file.toString();
    }

    // ---- the table ----

    private static final Map<String, String> LABELS = Map.of("count", "object count", "colors", "colour",
            "shapes", "shape", "sizes", "size", "cells", "cell", "binding", "colour-shape binding",
            "relation", "relation", "background", "background");

    private void printTable(EvalResults r, String style, int size, int promptCount, int dims) {
        if (output.json()) {
            return;
        }
        List<String> lines = new ArrayList<>();
        lines.add("");
        lines.add(String.format(Locale.ROOT, "Prompt following (SceneJudge, GenEval-style): %d prompts, %d images"
                + " at %dx%d", promptCount, r.generated().images(), size, size));
        lines.add(String.format(Locale.ROOT, "  %-14s %-22s %8s %11s", "group", "attribute", "accuracy", "correct"));
        for (String g : EvalResults.GROUPS) {
            AttributeTally t = r.generated().judged(g);
            if (t.images() == 0) {
                continue;
            }
            String label = g.replace('_', '-');
            lines.add(row(label, "all attributes", t.allCorrect(), t.images()));
            for (String a : Judgement.NAMES) {
                if (t.total(a) > 0) {
                    lines.add(row("", LABELS.get(a), t.correct(a), t.total(a)));
                }
            }
        }
        AttributeTally all = r.generated().judged("all");
        lines.add(row("overall", "all attributes", all.allCorrect(), all.images()));
        AttributeTally refs = r.references().judged("all");
        lines.add(row("references", "all attributes", refs.allCorrect(), refs.images())
                + "   (judge on rendered references: should be 1)");
        lines.add("");
        lines.add(String.format(Locale.ROOT, "CLIP score (the bundle's mini-CLIP, not OpenAI CLIP): %s"
                        + "   references: %s", fmt(r.generated().clipScore(), 2), fmt(r.references().clipScore(), 2)));
        lines.add(String.format(Locale.ROOT, "FID (bundle image-encoder features, %d-d): %s   (%d generated vs %d"
                        + " rendered references)", dims, fmt(r.fid(), 3), r.generated().images(),
                r.references().images()));
        lines.add(String.format(Locale.ROOT, "IS (captioner (colour, shape) labels, %d classes): %s   references: %s",
                CaptionLabels.CLASSES, fmt(r.generated().inceptionScore(), 3),
                fmt(r.references().inceptionScore(), 3)));
        lines.add("");
        lines.add("Captioner agreement with the prompt (" + (style == null ? "default" : style) + " captions, parsed):");
        lines.add(String.format(Locale.ROOT, "  %-22s %-20s %s", "attribute", "generated",
                "references (the captioner's own accuracy)"));
        lines.add(String.format(Locale.ROOT, "  %-22s %-20s %s", "caption parses",
                cell(r.generated().parsedCaptions(), r.generated().images()),
                cell(r.references().parsedCaptions(), r.references().images())));
        AttributeTally cg = r.generated().captions("all");
        AttributeTally cr = r.references().captions("all");
        lines.add(String.format(Locale.ROOT, "  %-22s %-20s %s", "all attributes", cell(cg.allCorrect(), cg.images()),
                cell(cr.allCorrect(), cr.images())));
        for (String a : Judgement.NAMES) {
            if (cg.total(a) > 0) {
                lines.add(String.format(Locale.ROOT, "  %-22s %-20s %s", LABELS.get(a), cell(cg.correct(a),
                        cg.total(a)), cell(cr.correct(a), cr.total(a))));
            }
        }
        for (String l : lines) {
            output.info(l);
        }
    }

    private static String row(String group, String attribute, int correct, int total) {
        return String.format(Locale.ROOT, "  %-14s %-22s %8s %11s", group, attribute,
                total == 0 ? "-" : String.format(Locale.ROOT, "%.4f", (double) correct / total), correct + "/" + total);
    }

    private static String cell(int correct, int total) {
        return total == 0 ? "-"
                : String.format(Locale.ROOT, "%.4f %9s", (double) correct / total, correct + "/" + total);
    }

    private static String fmt(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "n/a";
    }
}
