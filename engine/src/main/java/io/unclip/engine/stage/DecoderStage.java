package io.unclip.engine.stage;

import io.unclip.engine.diffusion.ClassifierGuidance;
import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.tensor.Tensor;

/**
 * Decoder stage: CLIP image embeddings (plus the prompt's text conditioning, where the model takes
 * it) to base-resolution images (DALL-E 2 section 2.2, GLIDE-style).
 *
 * <ul>
 *   <li>Classifier-free guidance in one model call per step: rows {@code [cond; uncond]}; the
 *       unconditional rows get a zero image embedding and the empty prompt's text conditioning,
 *       or the manifest's learned {@code unconditional} values instead (Karlo's learned image
 *       embedding).</li>
 *   <li>With the manifest's {@code clamp_output} the image is clamped to [-1, 1] (as diffusers'
 *       UnCLIPPipeline does before super-resolution).</li>
 *   <li>Learned-range variance, epsilon or x0 prediction, clipping: from the manifest.</li>
 *   <li>Progress every step, with the x0 prediction as preview every
 *       {@link RunContext#previewInterval()} steps.</li>
 *   <li>Noise: image i reads stream (seed, "decoder", i, 0).</li>
 *   <li>Optional {@link Inpainting}: known pixels replaced at every step.</li>
 *   <li>Optional ADM classifier guidance ({@link ClassifierStage}), towards the labels the prompt
 *       names, when the request's {@code classifier_guidance} is above 0.</li>
 *   <li>Optional best of {@code candidates}: K images are decoded per requested image (rows
 *       {@code i * K + c}, candidate c reading stream (seed, "decoder", i, c), so candidate 0 is the
 *       image decoded without ranking) and the one whose CLIP image embedding
 *       ({@link ImageEncoderStage}) is closest to the prompt's text embedding is kept, or without a
 *       prompt the one closest to the image embedding it was decoded from. DALL-E 2 ranks the
 *       prior's samples this way; ranking decoded images also catches the decoder's own mistakes
 *       (an object drawn in the wrong colour or place), at K times the decoder's cost. Previews
 *       show candidate 0.</li>
 * </ul>
 * Thread-safe.
 */
public final class DecoderStage {
    public static final String NOISE_STREAM = "decoder";
    private static final String[] TEXT_ROLES = {"text_embeds", "text_hidden", "text_mask", "input_ids"};

    private final LoadedStage stage;
    private final StageManifest manifest;
    private final DiffusionRunner runner;
    private final int size;
    private final int channels;
    private final ClassifierStage classifier; // null: the bundle has none
    private final ImageEncoderStage ranker; // null: the bundle has no image encoder, so no candidates

    public DecoderStage(LoadedStage stage) {
        this(stage, Scheduling.DEFAULT);
    }

    /** With its step scheduler configured: requests sampling at once share each model call. */
    public DecoderStage(LoadedStage stage, Scheduling scheduling) {
        this(stage, scheduling, null);
    }

    /** With a classifier for classifier guidance (null = none; then a request for it is refused). */
    public DecoderStage(LoadedStage stage, Scheduling scheduling, ClassifierStage classifier) {
        this(stage, scheduling, classifier, null);
    }

    /**
     * With a classifier (classifier guidance) and an image encoder (ranking candidates); either may be
     * null, and a request that needs it is then refused.
     */
    public DecoderStage(LoadedStage stage, Scheduling scheduling, ClassifierStage classifier,
                        ImageEncoderStage ranker) {
        if (stage.kind() != StageKind.DECODER) {
            throw new IllegalArgumentException(stage.name() + " is a " + stage.kind().id() + ", not a decoder");
        }
        this.stage = stage;
        this.manifest = stage.manifest();
        this.runner = new DiffusionRunner(stage, scheduling);
        this.size = manifest.resolution().orElseThrow().output().getAsInt();
        this.channels = (int) manifest.inputForRole("sample").orElseThrow().fixedDim(1).orElse(3);
        if (classifier != null && classifier.inputSize() != size) {
            throw new IllegalArgumentException(classifier.stage().name() + " classifies " + classifier.inputSize()
                    + " px images, " + stage.name() + " makes " + size + " px");
        }
        this.classifier = classifier;
        this.ranker = ranker;
    }

    /** The classifier used for classifier guidance, if the bundle has one. */
    public java.util.Optional<ClassifierStage> classifier() {
        return java.util.Optional.ofNullable(classifier);
    }

    public LoadedStage stage() {
        return stage;
    }

    /** The step scheduler this stage's requests share. */
    public io.unclip.engine.schedule.StepScheduler scheduler() {
        return runner.scheduler();
    }

    /** Output resolution (square). */
    public int outputSize() {
        return size;
    }

    /** Whether the model takes any text conditioning. */
    public boolean usesText() {
        for (String role : TEXT_ROLES) {
            if (StageRun.has(manifest, role)) {
                return true;
            }
        }
        return false;
    }

    public SamplerSettings settings(SamplerOverrides overrides) {
        return SamplerSettings.forStage(manifest, overrides);
    }

    /**
     * @param imageEmbeds {@code [N, E]}, one row per request row
     * @param text        the prompt's conditioning, N rows; null = unconditional text (the empty prompt)
     * @param uncond      the empty prompt's conditioning (1 row); needed when guided or {@code text} is null
     *                    and the model takes text
     * @param inpaint     known pixels at {@link #outputSize()}, or null
     */
    public DiffusionOutput decode(Tensor imageEmbeds, TextConditioning text, TextConditioning uncond,
                                  DiffusionRequest request, Inpainting inpaint, RunContext ctx) {
        return decode(imageEmbeds, text, uncond, request, inpaint, null, ctx);
    }

    /**
     * As above; {@code prompt} names the labels of classifier guidance (needed when the request asks
     * for it, ignored otherwise).
     */
    public DiffusionOutput decode(Tensor imageEmbeds, TextConditioning text, TextConditioning uncond,
                                  DiffusionRequest request, Inpainting inpaint, String prompt, RunContext ctx) {
        int n = request.rows();
        if (imageEmbeds.rank() != 2 || imageEmbeds.dim(0) != n) {
            throw new IllegalArgumentException("decoder: image embeddings " + imageEmbeds + " for " + n + " images");
        }
        if (text != null && text.rows() != n) {
            throw new IllegalArgumentException("decoder: " + text.rows() + " text rows for " + n + " images");
        }
        SamplerSettings settings = settings(request.overrides());
        if (settings.candidates() > 1) {
            return bestOf(settings, imageEmbeds, text, uncond, request, inpaint, prompt, ctx);
        }
        int[] images = request.imageIndices();
        return sample(settings, imageEmbeds, text, uncond, RowNoise.of(request.seed(), NOISE_STREAM, 0, images),
                inpaint == null ? null : inpaint.resized(size),
                inpaint == null ? null : RowNoise.of(request.seed(), NOISE_STREAM + "/inpaint", 0, images), prompt, ctx);
    }

    /** K candidates of every image in one run, then the one CLIP ranks closest to its target. */
    private DiffusionOutput bestOf(SamplerSettings settings, Tensor imageEmbeds, TextConditioning text,
                                   TextConditioning uncond, DiffusionRequest request, Inpainting inpaint,
                                   String prompt, RunContext ctx) {
        if (ranker == null) {
            throw new InvalidRequestException("decoder.candidates", "the model bundle has no image_encoder stage to"
                    + " rank candidates with");
        }
        if (inpaint != null) {
            throw new InvalidRequestException("decoder.candidates", "is not available for inpainting");
        }
        DiffusionOutput all = candidates(settings, imageEmbeds, text, uncond, request, prompt, ctx);
        // the ranking is part of this stage's run: no image encoder events of its own
        Tensor embedded = ranker.encode(all.images(), ctx.withListener(StageListener.NONE));
        Tensor targets = text != null ? text.textEmbeds() : imageEmbeds;
        int[] kept = CandidateRanking.best(embedded, targets, settings.candidates());
        return new DiffusionOutput(Tensors.gatherRows(all.images(), kept), settings, all.timings());
    }

    /** Every candidate, rows {@code i * K + c}; previews only of candidate 0. */
    DiffusionOutput candidates(SamplerSettings settings, Tensor imageEmbeds, TextConditioning text,
                               TextConditioning uncond, DiffusionRequest request, String prompt, RunContext ctx) {
        int n = request.rows();
        int k = settings.candidates();
        int[] source = new int[n * k];
        int[] images = new int[n * k];
        int[] candidate = new int[n * k];
        for (int r = 0; r < n * k; r++) {
            source[r] = r / k;
            images[r] = request.imageIndices()[r / k];
            candidate[r] = r % k;
        }
        int[] first = new int[n];
        java.util.Arrays.setAll(first, i -> i * k);
        return sample(settings, Tensors.gatherRows(imageEmbeds, source), text == null ? null : text.gather(source),
                uncond, RowNoise.of(request.seed(), NOISE_STREAM, images, candidate), null, null, prompt,
                ctx.withListener(previewsOf(ctx.listener(), first)));
    }

    /** Passes events on, with previews of only the given rows. */
    private static StageListener previewsOf(StageListener to, int[] rows) {
        return new StageListener() {
            @Override
            public void stageStarted(StageStarted event) {
                to.stageStarted(event);
            }

            @Override
            public void progress(StageProgress e) {
                to.progress(e.preview() == null ? e : new StageProgress(e.stage(), e.kind(), e.cascadeStep(), e.step(),
                        e.total(), Tensors.gatherRows(e.preview(), rows)));
            }

            @Override
            public void stageFinished(StageTimings timings) {
                to.stageFinished(timings);
            }
        };
    }

    private DiffusionOutput sample(SamplerSettings settings, Tensor imageEmbeds, TextConditioning text,
                                   TextConditioning uncond, RowNoise noise, Inpainting inpaint, RowNoise inpaintNoise,
                                   String prompt, RunContext ctx) {
        int n = noise.rows();
        ClassifierGuidance steer = classifierGuidance(settings, prompt, n);
        boolean guided = settings.guided();
        Tensor embeds = guided ? Tensors.concatRows(imageEmbeds,
                LearnedUnconditional.imageEmbeds(manifest, n, (int) imageEmbeds.dim(1))) : imageEmbeds;
        TextConditioning rowsText = null;
        if (usesText()) {
            if (uncond == null && (text == null || guided)) {
                throw new IllegalArgumentException("decoder: needs the unconditional (empty prompt) text conditioning");
            }
            rowsText = text != null ? text : uncond.repeat(0, n);
            if (guided) {
                rowsText = rowsText.concat(LearnedUnconditional.text(manifest, uncond.repeat(0, n)));
            }
            if (StageRun.has(manifest, "text_hidden") && rowsText.hiddenStates() == null) {
                throw new IllegalArgumentException(stage.name() + " needs per-token text features (text_hidden), the"
                        + " text encoder gives none");
            }
        }
        TextConditioning t = rowsText;
        DiffusionRunner.Conditioning conditioning = (in, modelRows) -> {
            if (StageRun.has(manifest, "image_embeds")) {
                StageRun.put(in, manifest, "image_embeds", embeds);
            }
            if (t != null) {
                putText(in, t);
            }
        };
        DiffusionRunner.Outcome out = runner.run(new long[] {n, channels, size, size}, noise, settings, conditioning,
                null, true, inpaint, inpaintNoise, steer, 0, ctx);
        Finite.output(out.sample(), "decoder", "image_embeds", "the embeddings are probably out of range");
        return new DiffusionOutput(LearnedUnconditional.clampIfAsked(manifest, out.sample()), settings, out.timings());
    }

    private ClassifierGuidance classifierGuidance(SamplerSettings settings, String prompt, int rows) {
        if (settings.classifierScale() == 0) {
            return null;
        }
        if (classifier == null) {
            throw new InvalidRequestException("decoder.classifier_guidance", "the model bundle has no classifier"
                    + " stage");
        }
        if (prompt == null || prompt.isBlank()) {
            throw new InvalidRequestException("decoder.classifier_guidance", "needs a prompt (its labels guide the"
                    + " decoder)");
        }
        return classifier.guidance(prompt, rows, settings.classifierScale(), "decoder.classifier_guidance");
    }

    private void putText(ModelInputs in, TextConditioning t) {
        if (StageRun.has(manifest, "text_embeds")) {
            StageRun.put(in, manifest, "text_embeds", t.textEmbeds());
        }
        if (StageRun.has(manifest, "text_hidden")) {
            StageRun.put(in, manifest, "text_hidden", t.hiddenStates());
        }
        if (StageRun.has(manifest, "text_mask")) {
            StageRun.putIntegers(in, manifest, "text_mask", t.mask(), t.tokenShape());
        }
        if (StageRun.has(manifest, "input_ids")) {
            StageRun.putIntegers(in, manifest, "input_ids", t.ids(), t.tokenShape());
        }
    }
}
