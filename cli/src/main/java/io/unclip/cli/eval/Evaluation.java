package io.unclip.cli.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
import io.unclip.shapes.SplitMix64;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One evaluation of the embedded cascade on a prompt set ({@code unclip eval}), phase by phase:
 * for every prompt it generates the images ({@link #generate}), renders as many reference scenes
 * that satisfy the prompt ({@link #references}), embeds both with the bundle's image encoder
 * ({@link #embed}), captions both ({@link #caption}) and judges them ({@link #judge}); the prompts'
 * text embeddings are computed once ({@link #textEmbeddings}); {@link #report} writes eval.json.
 * Metric definitions in {@link EvalResults} and cli/README.md.
 *
 * <p>Framework-free: the command line reaches it through {@link Settings}, and it reports
 * through {@link Progress} and {@link EvalException}.
 */
public final class Evaluation {
    /** Texts per text-encoder call. */
    private static final int TEXT_BATCH = 16;

    /**
     * What to evaluate and where the files go.
     *
     * @param numImages       images per prompt (one batch)
     * @param size            the image size, or null for the bundle's largest
     * @param captionStyle    the captioner style for agreement and IS
     * @param overrides       sampler settings for every prompt
     * @param workDir         paths in the report and in messages are shown relative to it
     * @param dir             where the images, references/ and prompts.jsonl go
     * @param reportFile      the report (eval.json)
     * @param promptSet       where the prompts came from, as the report records it
     */
    public record Settings(int numImages, Integer size, String captionStyle, StageOverrides overrides,
                           Path workDir, Path dir, Path reportFile,
                           Map<String, Object> promptSet) {
    }

    /** What the evaluation tells its caller as it goes. */
    public interface Progress {
        /** The listener of every generation. */
        CascadeListener cascadeListener();

        void warning(String message);

        /** The models are loaded and the prompts checked: generation starts. */
        void started(int prompts, int numImages, int size, String bundleName, String bundleVersion);

        /** {@code p} is being generated (its cascade events follow) ... */
        void generating(EvalPrompt p);

        /** ... and is generated. */
        void generated(EvalPrompt p);

        /** {@code p}, the {@code index}-th of {@code of} (from 1), is scored. */
        void scored(EvalPrompt p, int index, int of, int images, int allCorrect, List<String> files);
    }

    /** Why the evaluation cannot go on, as the command line reports it. */
    public static final class EvalException extends RuntimeException {
        public enum Kind { BAD_INPUT, BAD_BUNDLE, FAILED }

        private final Kind kind;

        EvalException(Kind kind, String message, Throwable cause) {
            super(message, cause);
            this.kind = kind;
        }

        public Kind kind() {
            return kind;
        }

        static EvalException badInput(String message) {
            return new EvalException(Kind.BAD_INPUT, message, null);
        }
    }

    /**
     * The finished evaluation.
     *
     * @param document    the report as written to {@link Settings#reportFile}
     * @param results     every score
     * @param captionStyle the style used (null: the captioner has none)
     * @param size        the image size
     * @param prompts     how many prompts
     * @param featureDims the image encoder's feature size
     * @param seconds     the wall time, model loading included
     */
    public record Report(Map<String, Object> document, EvalResults results, String captionStyle, int size,
                         int prompts, int featureDims, double seconds) {
    }

    /** The bundle's stages the evaluation uses. */
    private record Stages(TextEncoderStage text, ImageEncoderStage imageEncoder, CaptionerStage captioner) {
    }

    /** One prompt's images as generated and written. */
    private record Generated(GenerationResult result, List<RgbImage> images, List<String> files) {
    }

    private final Settings settings;
    private final List<EvalPrompt> set;
    private final Progress progress;
    private final PngCodec png = PngCodec.withDefaultLimits();

    public Evaluation(Settings settings, List<EvalPrompt> set, Progress progress) {
        this.settings = settings;
        this.set = List.copyOf(set);
        this.progress = progress;
    }

    public Settings settings() {
        return settings;
    }

    // ---- before the models load ----

    /** Every prompt must have a reference scene. */
    public static void checkReferences(List<EvalPrompt> set) {
        for (EvalPrompt p : set) {
            try {
                ReferenceScenes.sample(p.spec(), new SplitMix64(p.seed()));
            } catch (IllegalArgumentException e) {
                throw EvalException.badInput("prompt " + p.id() + " '" + p.prompt() + "': " + e.getMessage());
            }
        }
    }

    /** The generation request of {@code p} (its size: {@link Settings#size}, null for the bundle's default). */
    public GenerationRequest request(EvalPrompt p) {
        return GenerationRequest.of(p.prompt()).withNumImages(settings.numImages()).withSeed(p.seed())
                .withSize(settings.size()).withOverrides(settings.overrides());
    }

    /** Creates the output directories and writes the prompt set used (prompts.jsonl). */
    public void prepare() {
        try {
            Files.createDirectories(referenceDir());
            PromptSet.write(settings.dir().resolve("prompts.jsonl"), set);
        } catch (IOException e) {
            throw new EvalException(EvalException.Kind.FAILED, "cannot write to " + shown(settings.dir()) + ": "
                    + e.getMessage(), e);
        }
    }

    // ---- the run ----

    /** Loads the models from {@code models}, scores every prompt, closes them and writes the report. */
    public Report run(Supplier<Cascade> models) {
        long t0 = System.nanoTime();
        EvalResults results = new EvalResults();
        Map<String, Object> sampling;
        String style;
        int size;
        String bundleName;
        String bundleVersion;
        try (Cascade cascade = models.get()) {
            bundleName = cascade.bundle().name();
            bundleVersion = cascade.bundle().version();
            Stages stages = stages(cascade);
            style = captionStyle(stages.captioner());
            size = resolveSize(cascade);
            checkPrompts(stages.text());
            List<float[]> textEmbeds = textEmbeddings(stages.text());
            progress.started(set.size(), settings.numImages(), size, bundleName, bundleVersion);
            sampling = null;
            for (int k = 0; k < set.size(); k++) {
                EvalPrompt p = set.get(k);
                Generated gen = generate(cascade, p, size);
                if (sampling == null) {
                    sampling = gen.result().parameters().toMap();
                }
                List<RgbImage> refs = references(p, gen.images().size(), size);
                List<RgbImage> both = new ArrayList<>(gen.images());
                both.addAll(refs);
                Tensor pixels = Images.toTensor(both);
                Tensor embeds = embed(stages.imageEncoder(), pixels);
                List<Caption> captions = caption(stages.captioner(), pixels, style);
                int correct = judge(results, p, gen, both, embeds, captions, textEmbeds.get(k));
                progress.scored(p, k + 1, set.size(), gen.images().size(), correct, gen.files());
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        int featureDims = results.generated().features().isEmpty() ? 0 : results.generated().features().get(0).length;
        Map<String, Object> document = report(results, style, size, featureDims, seconds, sampling,
                bundleName, bundleVersion);
        return new Report(document, results, style, size, set.size(), featureDims, seconds);
    }

    private static Stages stages(Cascade cascade) {
        TextEncoderStage text = require(cascade, cascade.textEncoder().orElse(null), "text_encoder",
                "generation and the CLIP score");
        require(cascade, cascade.prior().orElse(null), "prior", "generation");
        require(cascade, cascade.decoder().orElse(null), "decoder", "generation");
        ImageEncoderStage imageEncoder = require(cascade, cascade.imageEncoder().orElse(null), "image_encoder",
                "the CLIP score and FID");
        CaptionerStage captioner = require(cascade, cascade.captioner().orElse(null), "captioner",
                "captioner agreement and IS");
        return new Stages(text, imageEncoder, captioner);
    }

    private static <T> T require(Cascade cascade, T stage, String kind, String what) {
        if (stage == null) {
            throw new EvalException(EvalException.Kind.BAD_BUNDLE, "bundle '" + cascade.bundle().name()
                    + "' has no " + kind + " stage, which eval needs for " + what, null);
        }
        return stage;
    }

    private String captionStyle(CaptionerStage captioner) {
        String wanted = settings.captionStyle();
        if (captioner.styles().isEmpty()) {
            if (!wanted.equals("descriptive") && !wanted.equals("default")) {
                throw EvalException.badInput("--caption-style: this captioner has no caption styles");
            }
            progress.warning("the captioner has no caption styles; its captions are compared as they come");
            return null;
        }
        if (!captioner.styles().contains(wanted)) {
            throw EvalException.badInput("--caption-style: '" + wanted + "' is not a style of this captioner ("
                    + String.join(", ", captioner.styles()) + ")");
        }
        return wanted;
    }

    private int resolveSize(Cascade cascade) {
        List<Integer> sizes = cascade.sizes();
        Integer size = settings.size();
        if (size == null) {
            return sizes.get(sizes.size() - 1);
        }
        if (!sizes.contains(size)) {
            throw EvalException.badInput("--size " + size + " is not a size this bundle makes; it makes "
                    + String.join(", ", sizes.stream().map(String::valueOf).toList()));
        }
        return size;
    }

    /** Every prompt must be one the text encoder takes. */
    private void checkPrompts(TextEncoderStage text) {
        for (EvalPrompt p : set) {
            try {
                text.checkPrompt("prompt", p.prompt());
            } catch (InvalidRequestException e) {
                throw EvalException.badInput("prompt " + p.id() + " '" + p.prompt() + "' " + e.getMessage()
                        .substring("prompt".length()).trim());
            }
        }
    }

    // ---- the phases ----

    /** The prompts' text embeddings (for the CLIP score), in batches of {@link #TEXT_BATCH}. */
    List<float[]> textEmbeddings(TextEncoderStage text) {
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

    /** Generates {@code p}'s images at {@code size} and writes them as DIR/&lt;id&gt;-&lt;i&gt;.png. */
    Generated generate(Cascade cascade, EvalPrompt p, int size) {
        progress.generating(p);
        GenerationResult r = cascade.generate(request(p).withSize(size), progress.cascadeListener(), null);
        progress.generated(p);
        List<RgbImage> images = new ArrayList<>();
        List<String> files = new ArrayList<>();
        for (int i = 0; i < r.count(); i++) {
            int index = i;
            Path file = settings.dir().resolve(p.id() + "-" + i + ".png");
            write(() -> png.write(r.images(), index, r.parameters().pngText(index), file), file);
            files.add(shown(file));
            images.add(Images.toRgb(r.images(), i));
        }
        return new Generated(r, images, files);
    }

    /** Renders {@code count} reference scenes of {@code p} and writes them as DIR/references/&lt;id&gt;-&lt;i&gt;.png. */
    List<RgbImage> references(EvalPrompt p, int count, int size) {
        List<RgbImage> refs = ReferenceScenes.render(p, count, size);
        for (int i = 0; i < refs.size(); i++) {
            Path file = referenceDir().resolve(p.id() + "-" + i + ".png");
            RgbImage img = refs.get(i);
            write(() -> img.writePng(file), file);
        }
        return refs;
    }

    /** The image encoder's features of every image, one row each. */
    static Tensor embed(ImageEncoderStage imageEncoder, Tensor pixels) {
        return imageEncoder.encode(pixels, RunContext.quiet());
    }

    /** The captioner's caption of every image. */
    static List<Caption> caption(CaptionerStage captioner, Tensor pixels, String style) {
        return captioner.caption(pixels, style, 0, null, RunContext.quiet());
    }

    /**
     * Judges every image of {@code both} (the generated ones, then the references) against the
     * prompt, parses its caption and adds its scores to {@code results}.
     *
     * @return how many generated images are right in every attribute
     */
    static int judge(EvalResults results, EvalPrompt p, Generated gen, List<RgbImage> both, Tensor embeds,
                     List<Caption> captions, float[] textEmbedding) {
        int correct = 0;
        for (int i = 0; i < both.size(); i++) {
            Judgement j = SceneJudge.judge(both.get(i), p.spec());
            String caption = captions.get(i).text();
            PromptSpec parsed = parse(caption);
            float[] feature = row(embeds, i);
            if (i >= gen.images().size()) {
                results.addReference(p, j, feature, textEmbedding, parsed);
            } else {
                results.addGenerated(p, i, gen.files().get(i), j, feature, textEmbedding, caption, parsed);
                correct += j.allCorrect() ? 1 : 0;
            }
        }
        return correct;
    }

    /** The report document, written to {@link Settings#reportFile}. */
    Map<String, Object> report(EvalResults results, String style, int size, int featureDims, double seconds,
                               Map<String, Object> sampling, String bundleName, String bundleVersion) {
        Map<String, Object> doc = new LinkedHashMap<>();
        Map<String, Object> bundle = new LinkedHashMap<>();
        bundle.put("name", bundleName);
        bundle.put("version", bundleVersion);
        doc.put("bundle", bundle);
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("prompt_set", settings.promptSet());
        run.put("prompts_file", shown(settings.dir().resolve("prompts.jsonl")));
        run.put("num_images", settings.numImages());
        run.put("size", size);
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
        Path report = settings.reportFile();
        try {
            if (report.getParent() != null) {
                Files.createDirectories(report.getParent());
            }
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(report.toFile(), doc);
        } catch (IOException e) {
            throw new EvalException(EvalException.Kind.FAILED, "cannot write " + shown(report) + ": "
                    + e.getMessage(), e);
        }
        return doc;
    }

    // ---- helpers ----

    private Path referenceDir() {
        return settings.dir().resolve("references");
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

    private interface Writing {
        void run() throws IOException;
    }

    private static void write(Writing w, Path file) {
        try {
            w.run();
        } catch (IOException e) {
            throw new EvalException(EvalException.Kind.FAILED, "cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@code file} relative to the working directory when it lies below it. */
    public String shown(Path file) {
        Path wd = settings.workDir();
        return file.startsWith(wd) ? wd.relativize(file).toString() : file.toString();
    }
}
