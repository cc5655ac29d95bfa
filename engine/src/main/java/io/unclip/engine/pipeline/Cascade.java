package io.unclip.engine.pipeline;

import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.ModelBundle;
import io.unclip.engine.model.ModelRepository;
import io.unclip.engine.model.ModelRepositoryException;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.TensorDecl;
import io.unclip.engine.onnx.OrtRuntime;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.stage.Caption;
import io.unclip.engine.stage.CaptionToken;
import io.unclip.engine.stage.CaptionerStage;
import io.unclip.engine.stage.ClassifierStage;
import io.unclip.engine.stage.DecoderStage;
import io.unclip.engine.stage.DiffusionOutput;
import io.unclip.engine.stage.DiffusionRequest;
import io.unclip.engine.stage.ImageEmbeddings;
import io.unclip.engine.stage.ImageEncoderStage;
import io.unclip.engine.stage.ImageResize;
import io.unclip.engine.stage.Inpainting;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.stage.PriorResult;
import io.unclip.engine.stage.PriorStage;
import io.unclip.engine.stage.RunContext;
import io.unclip.engine.stage.SamplerSettings;
import io.unclip.engine.stage.StageProgress;
import io.unclip.engine.stage.StageStarted;
import io.unclip.engine.stage.StageTimings;
import io.unclip.engine.stage.TextConditioning;
import io.unclip.engine.stage.TextEncoderStage;
import io.unclip.engine.stage.UpsamplerStage;
import io.unclip.engine.tensor.Tensor;
import java.nio.file.Path;
import io.unclip.engine.schedule.Batching;
import io.unclip.engine.stage.Scheduling;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The embedded cascade: every stage of a bundle in this process, run one after the other
 * (text encoder, prior, decoder, the upsamplers up to the requested size), each stage
 * batching all N images (and the conditional and unconditional rows of guidance) into one model
 * call per step.
 *
 * <p>Same seed, request and bundle give bit-identical images on the same machine and ONNX Runtime
 * build, whatever the batch: each image reads its own noise streams (see
 * {@link io.unclip.engine.stage} for the layout). Thread-safe: runs share only the immutable stages.
 */
public final class Cascade implements AutoCloseable {
    private final ModelBundle bundle;
    private final OrtRuntime ownedRuntime;
    private final TextEncoderStage text;
    private final PriorStage prior;
    private final DecoderStage decoder;
    private final List<UpsamplerStage> upsamplers;
    private final CaptionerStage captioner;
    private final ImageEncoderStage imageEncoder;
    private final CascadePlan plan;

    /** A cascade over a loaded bundle it does not own (closing the cascade leaves the bundle open). */
    public Cascade(ModelBundle bundle) {
        this(bundle, null, Scheduling.DEFAULT);
    }

    /**
     * A cascade whose diffusion stages batch concurrent calls per {@code scheduling}: calls from
     * many threads share each model call of every step.
     */
    public Cascade(ModelBundle bundle, Scheduling scheduling) {
        this(bundle, null, scheduling);
    }

    private Cascade(ModelBundle bundle, OrtRuntime ownedRuntime, Scheduling scheduling) {
        this.bundle = bundle;
        this.ownedRuntime = ownedRuntime;
        this.text = first(StageKind.TEXT_ENCODER).map(s -> new TextEncoderStage(s, scheduling)).orElse(null);
        this.prior = first(StageKind.PRIOR).map(s -> new PriorStage(s, scheduling)).orElse(null);
        ClassifierStage classifier = first(StageKind.CLASSIFIER).map(ClassifierStage::new).orElse(null);
        this.imageEncoder = first(StageKind.IMAGE_ENCODER).map(ImageEncoderStage::new).orElse(null);
        this.decoder = first(StageKind.DECODER).map(s -> new DecoderStage(s, scheduling, classifier, imageEncoder))
                .orElse(null);
        List<UpsamplerStage> ups = new ArrayList<>();
        for (LoadedStage s : bundle.stagesOfKind(StageKind.UPSAMPLER)) {
            ups.add(new UpsamplerStage(s, ups.size(), scheduling));
        }
        this.upsamplers = List.copyOf(ups);
        this.captioner = first(StageKind.CAPTIONER).map(s -> new CaptionerStage(s, scheduling)).orElse(null);
        this.plan = CascadePlan.of(bundle);
        checkText();
    }

    /** Loads the bundle at {@code dir} with its own ONNX Runtime; {@link #close()} releases both. */
    public static Cascade open(Path dir, RuntimeOptions options) {
        return open(dir, options, Scheduling.DEFAULT);
    }

    /** As {@link #open(Path, RuntimeOptions)}, with the step schedulers configured. */
    public static Cascade open(Path dir, RuntimeOptions options, Scheduling scheduling) {
        OrtRuntime runtime = new OrtRuntime(options);
        try {
            ModelBundle b = new ModelRepository(runtime).load(dir);
            try {
                return new Cascade(b, runtime, scheduling);
            } catch (RuntimeException e) {
                b.close();
                throw e;
            }
        } catch (RuntimeException e) {
            runtime.close();
            throw e;
        }
    }

    public ModelBundle bundle() {
        return bundle;
    }

    /** The sizes this cascade makes: the decoder's output, then each upsampler's. */
    public List<Integer> sizes() {
        return plan.sizes();
    }

    /** The stage order and size chain of this cascade's bundle (the one every mode follows). */
    public CascadePlan plan() {
        return plan;
    }

    public Optional<TextEncoderStage> textEncoder() {
        return Optional.ofNullable(text);
    }

    public Optional<PriorStage> prior() {
        return Optional.ofNullable(prior);
    }

    public Optional<DecoderStage> decoder() {
        return Optional.ofNullable(decoder);
    }

    public List<UpsamplerStage> upsamplers() {
        return upsamplers;
    }

    public Optional<CaptionerStage> captioner() {
        return Optional.ofNullable(captioner);
    }

    public Optional<ImageEncoderStage> imageEncoder() {
        return Optional.ofNullable(imageEncoder);
    }

    // ---- text to image ----

    public GenerationResult generate(GenerationRequest request, CascadeListener listener, BooleanSupplier cancel) {
        request.validate();
        requireTextToImage("text-to-image", request.prompt());
        int size = resolveSize(request.size());
        StageOverrides o = request.overrides();
        int ups = preflight(o, size, true);
        long seed = Requests.seedOrRandom(request.seed());
        int n = request.numImages();
        Run run = new Run("generate", listener, cancel, request.previewInterval());
        run.listener.started(new JobStarted("generate", seed, n, size));
        return fromPrompt(run, request.prompt(), seed, n, size, ups, o, null);
    }

    private void requireTextToImage(String what, String prompt) {
        require(text, "text_encoder", what);
        require(prior, "prior", what);
        require(decoder, "decoder", what);
        text.checkPrompt("prompt", prompt);
    }

    /**
     * Prompt → text encoder → prior (best of its candidates) → decoder (with {@code known}
     * pixels when inpainting) → upsamplers: the text-to-image path of generate and inpaint.
     */
    private GenerationResult fromPrompt(Run run, String prompt, long seed, int n, int size, int ups,
                                        StageOverrides o, Inpainting known) {
        TextConditioning cond = text.encode(List.of(prompt), run.ctx);
        run.warnIfTruncated(cond, "prompt");
        TextConditioning uncond = text.emptyPrompt();
        int[] images = range(n);
        PriorResult pr = prior.sample(cond.repeat(0, n), uncond, new DiffusionRequest(seed, images, o.prior()),
                run.ctx);
        run.settings.put(prior.stage().name(), pr.settings());
        Tensor out = decodeAndUpsample(run, pr.imageEmbeds(), cond.repeat(0, n), uncond, prompt, seed, images, o, ups,
                known);
        return run.finish(out, params(run, prompt, seed, n, size, ups, Map.of()), pr);
    }

    // ---- variations ----

    public GenerationResult variations(VariationsRequest request, CascadeListener listener, BooleanSupplier cancel) {
        request.validate();
        require(imageEncoder, "image_encoder", "variations");
        require(decoder, "decoder", "variations");
        if (request.prompt() != null) {
            require(text, "text_encoder", "variations with a prompt");
            text.checkPrompt("prompt", request.prompt());
        }
        int size = resolveSize(request.size());
        StageOverrides o = request.overrides();
        int ups = preflight(o, size, false);
        long seed = Requests.seedOrRandom(request.seed());
        int n = request.numImages();
        Run run = new Run("variations", listener, cancel, request.previewInterval());
        run.listener.started(new JobStarted("variations", seed, n, size));

        TextConditioning cond = null;
        if (request.prompt() != null) {
            cond = text.encode(List.of(request.prompt()), run.ctx).repeat(0, n);
            run.warnIfTruncated(cond, "prompt");
        }
        TextConditioning uncond = text == null ? null : text.emptyPrompt();
        int[] images = range(n);
        Tensor embeds = ImageEmbeddings.variations(imageEncoder, request.image(), n, run.ctx);
        Tensor out = decodeAndUpsample(run, embeds, cond, uncond, request.prompt(), seed, images, o, ups, null);
        return run.finish(out, params(run, request.prompt(), seed, n, size, ups, Map.of()), null);
    }

    // ---- interpolation ----

    public GenerationResult interpolate(InterpolationRequest request, CascadeListener listener,
                                        BooleanSupplier cancel) {
        request.validate();
        require(imageEncoder, "image_encoder", "interpolation");
        require(decoder, "decoder", "interpolation");
        boolean towards = request.towards() != null;
        if (towards) {
            require(text, "text_encoder", "interpolation towards a prompt");
            text.checkPrompt("towards_prompt", request.towards());
            if (request.sourcePrompt() != null && !request.sourcePrompt().isEmpty()) {
                text.checkPrompt("source_prompt", request.sourcePrompt());
            }
        }
        int size = resolveSize(request.size());
        StageOverrides o = request.overrides();
        int ups = preflight(o, size, false);
        long seed = Requests.seedOrRandom(request.seed());
        int k = request.frames();
        Run run = new Run("interpolate", listener, cancel, request.previewInterval());
        run.listener.started(new JobStarted("interpolate", seed, k, size));

        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("frames", k);
        Tensor frames;
        if (!towards) {
            frames = ImageEmbeddings.slerpFrames(imageEncoder, request.imageA(), request.imageB(), k, run.ctx);
        } else {
            Tensor embedding = imageEncoder.encode(request.imageA(), run.ctx);
            String source = request.sourcePrompt();
            if (source == null) {
                source = captioner == null ? "" : describe(request.imageA(), run);
            }
            TextConditioning both = text.encode(List.of(request.towards(), source), run.ctx); // one model call
            run.warnIfTruncated(both, "towards_prompt");
            if (Arrays.equals(both.embedding(0), both.embedding(1))) {
                throw new InvalidRequestException("towards_prompt", "has the same text embedding as the source"
                        + " description '" + source + "'; nothing to move towards");
            }
            frames = ImageEmbeddings.textDiffFrames(row(embedding, 0), both.embedding(0), both.embedding(1), k,
                    request.maxAngle());
            extra.put("towards", request.towards());
            extra.put("source_prompt", source);
            extra.put("max_angle", request.maxAngle());
        }
        TextConditioning uncond = text == null ? null : text.emptyPrompt();
        Tensor out = decodeAndUpsample(run, frames, null, uncond, null, seed, new int[k], o, ups, null);
        return run.finish(out, params(run, towards ? request.towards() : null, seed, k, size, ups, extra), null);
    }

    // ---- inpainting ----

    public GenerationResult inpaint(InpaintRequest request, CascadeListener listener, BooleanSupplier cancel) {
        request.validate();
        requireTextToImage("inpainting", request.prompt());
        int size = resolveSize(request.size());
        StageOverrides o = request.overrides();
        int ups = preflight(o, size, true);
        long seed = Requests.seedOrRandom(request.seed());
        int n = request.numImages();
        Run run = new Run("inpaint", listener, cancel, request.previewInterval());
        run.listener.started(new JobStarted("inpaint", seed, n, size));

        Tensor image = ImageResize.toSize(request.image(), size, ImageResize.Mode.BILINEAR);
        float[] m = request.mask().toArray();
        for (int i = 0; i < m.length; i++) {
            m[i] = Math.min(1f, Math.max(0f, (m[i] + 1f) / 2f));
        }
        Tensor mask = ImageResize.toSize(Tensor.of(m, request.mask().shape()), size, ImageResize.Mode.BILINEAR);
        Inpainting known = Inpainting.fromRegenerateMask(image, mask);
        return fromPrompt(run, request.prompt(), seed, n, size, ups, o, known);
    }

    // ---- captions ----

    /**
     * Captions one image ({@code [1, 3, H, W]}).
     *
     * @param style     a style of the captioner (e.g. "short", "descriptive"); null = its default
     * @param maxTokens 0 = as many as fit
     * @param tokens    receives tokens as they are decoded (may be null)
     */
    public Caption caption(Tensor image, String style, int maxTokens, Consumer<CaptionToken> tokens,
                           CascadeListener listener, BooleanSupplier cancel) {
        Requests.checkImage("image", image);
        require(captioner, "captioner", "captions");
        RunContext ctx = new RunContext(listener, cancel, 0);
        return captioner.caption(image, style, maxTokens, tokens, ctx).get(0);
    }

    /**
     * What batches each model's calls, in cascade order: the text encoder's batcher, the step
     * scheduler of every diffusion stage, the captioner's batcher.
     */
    public List<Batching> schedulers() {
        List<Batching> all = new ArrayList<>();
        if (text != null) {
            all.add(text.batcher());
        }
        if (prior != null) {
            all.add(prior.scheduler());
        }
        if (decoder != null) {
            all.add(decoder.scheduler());
        }
        upsamplers.forEach(u -> all.add(u.scheduler()));
        if (captioner != null) {
            all.add(captioner.batcher());
        }
        return all;
    }

    @Override
    public void close() {
        schedulers().forEach(Batching::close);
        if (ownedRuntime != null) {
            try {
                bundle.close();
            } finally {
                ownedRuntime.close();
            }
        }
    }

    // ---- shared steps ----

    private Tensor decodeAndUpsample(Run run, Tensor embeds, TextConditioning cond, TextConditioning uncond,
                                     String prompt, long seed,
                                     int[] images, StageOverrides o, int ups, Inpainting known) {
        DiffusionOutput d = decoder.decode(embeds, cond, uncond, new DiffusionRequest(seed, images, o.decoder()),
                known, prompt, run.ctx);
        run.settings.put(decoder.stage().name(), d.settings());
        Tensor out = d.images();
        for (int i = 0; i < ups; i++) {
            UpsamplerStage u = upsamplers.get(i);
            DiffusionOutput up = u.upsample(out, embeds, new DiffusionRequest(seed, images, o.upsampler()), known,
                    run.ctx);
            run.settings.put(u.stage().name(), up.settings());
            out = up.images();
        }
        return out;
    }

    /** Checks every override before anything runs (the plan's preflight); returns the number of upsamplers to run. */
    private int preflight(StageOverrides o, int size, boolean withPrior) {
        plan.settings(withPrior ? CascadePlan.Job.GENERATE : CascadePlan.Job.VARIATIONS, size, o);
        return plan.upsamplerSteps(size);
    }

    private int resolveSize(Integer requested) {
        if (plan.sizes().isEmpty()) {
            throw new IllegalStateException("bundle '" + bundle.name() + "' has no decoder, so it makes no images");
        }
        return plan.resolveSize(requested == null ? 0 : requested);
    }

    private String describe(Tensor image, Run run) {
        String style = captioner.styles().contains("descriptive") ? "descriptive" : null;
        return captioner.caption(image, style, 0, null, run.ctx).get(0).text();
    }

    private GenerationParameters params(Run run, String prompt, long seed, int n, int size, int ups,
                                        Map<String, Object> extra) {
        return new GenerationParameters(run.mode, prompt, seed, n, size, plan.sizes().subList(0, ups + 1), run.settings,
                bundle.name(), bundle.version(), extra);
    }

    /** Fixed sizes of the text conditioning inputs must match what the text encoder makes. */
    private void checkText() {
        if (text == null) {
            return;
        }
        var te = text.stage().manifest();
        OptionalLong embed = te.outputForRole("text_embeds").map(t -> t.fixedDim(1)).orElse(OptionalLong.empty());
        Optional<TensorDecl> hidden = te.outputForRole("last_hidden_state");
        int tokens = text.contextLength();
        for (var stage : List.of(Optional.ofNullable(prior).map(PriorStage::stage),
                Optional.ofNullable(decoder).map(DecoderStage::stage))) {
            if (stage.isEmpty()) {
                continue;
            }
            var m = stage.get().manifest();
            String who = stage.get().name();
            m.inputForRole("text_embeds").ifPresent(t -> expect(who, t, 1, embed, "the text encoder's text_embeds"));
            for (String role : List.of("text_hidden", "text_mask", "input_ids")) {
                m.inputForRole(role).ifPresent(t -> expect(who, t, 1, OptionalLong.of(tokens),
                        "the text encoder's context length"));
            }
            m.inputForRole("text_hidden").ifPresent(t -> {
                if (hidden.isEmpty()) {
                    throw bundleError(who + " takes per-token text features (" + t.name() + ") but "
                            + text.stage().name() + " has no last_hidden_state output");
                }
                expect(who, t, 2, hidden.get().fixedDim(2), "the text encoder's last_hidden_state width");
            });
        }
    }

    private void expect(String who, TensorDecl t, int dim, OptionalLong want, String what) {
        OptionalLong got = t.fixedDim(dim);
        if (got.isPresent() && want.isPresent() && got.getAsLong() != want.getAsLong()) {
            throw bundleError(who + " input '" + t.name() + "' " + t.shapeText() + " has " + got.getAsLong()
                    + " at dimension " + dim + ", " + what + " is " + want.getAsLong());
        }
    }

    private ModelRepositoryException bundleError(String message) {
        return new ModelRepositoryException(bundle.dir().resolve("bundle.json"), "bundle.json: " + message);
    }

    private Optional<LoadedStage> first(StageKind kind) {
        return bundle.stagesOfKind(kind).stream().findFirst();
    }

    private void require(Object stage, String kind, String what) {
        if (stage == null) {
            throw new IllegalStateException("bundle '" + bundle.name() + "' has no " + kind + " stage, which " + what
                    + " needs");
        }
    }

    private static float[] row(Tensor t, int r) {
        int d = (int) t.dim(1);
        float[] out = new float[d];
        t.buffer().get(r * d, out);
        return out;
    }

    static int[] range(int n) {
        int[] r = new int[n];
        Arrays.setAll(r, i -> i);
        return r;
    }

    /** One run's bookkeeping: the listener (recording timings), settings used, warnings. */
    private static final class Run {
        final String mode;
        final CascadeListener listener;
        final RunContext ctx;
        final List<StageTimings> timings = new ArrayList<>();
        final List<String> warnings = new ArrayList<>();
        final Map<String, SamplerSettings> settings = new LinkedHashMap<>();

        Run(String mode, CascadeListener listener, BooleanSupplier cancel, int previewInterval) {
            this.mode = mode;
            this.listener = listener == null ? CascadeListener.NONE : listener;
            CascadeListener l = this.listener;
            this.ctx = new RunContext(new io.unclip.engine.stage.StageListener() {
                @Override
                public void stageStarted(StageStarted e) {
                    l.stageStarted(e);
                }

                @Override
                public void progress(StageProgress e) {
                    l.progress(e);
                }

                @Override
                public void stageFinished(StageTimings t) {
                    timings.add(t);
                    l.stageFinished(t);
                }
            }, cancel, previewInterval);
        }

        void warnIfTruncated(TextConditioning t, String field) {
            if (t.truncated(0)) {
                String w = field + ": longer than the text encoder's " + t.length() + " tokens; the end was cut";
                warnings.add(w);
                listener.warning(w);
            }
        }

        GenerationResult finish(Tensor images, GenerationParameters p, PriorResult pr) {
            GenerationResult r = new GenerationResult(images, p, timings, warnings, Optional.ofNullable(pr));
            listener.result(r);
            return r;
        }
    }
}
