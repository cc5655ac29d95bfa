package io.unclip.engine.stage;

import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.Normalization;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.tensor.Tensor;

/**
 * Diffusion prior stage: text conditioning to CLIP image embeddings (DALL-E 2 section 2.1).
 *
 * <ul>
 *   <li>For every image it samples its settings' {@code candidates} embeddings (default 2) and
 *       keeps the one whose de-normalised embedding has the highest cosine similarity with the
 *       image's text embedding ({@link CandidateRanking}).</li>
 *   <li>Classifier-free guidance runs conditional and unconditional rows in one model call per
 *       step: rows {@code [cond candidates; uncond candidates]}; the unconditional text is the
 *       text encoder's output for the empty prompt (with the manifest's learned
 *       {@code unconditional} text embedding in place of its own, if it gives one).</li>
 *   <li>The model samples in normalised space ((x - mean) / std, the manifest's
 *       {@code normalization}); results are de-normalised (x * std + mean).</li>
 *   <li>Noise: candidate c of image i reads stream (seed, "prior", i, c) of
 *       {@link io.unclip.engine.seed.NoiseSeeds}.</li>
 * </ul>
 * Thread-safe.
 */
public final class PriorStage {
    /** Noise stream name of the prior. */
    public static final String NOISE_STREAM = "prior";

    private final LoadedStage stage;
    private final StageManifest manifest;
    private final DiffusionRunner runner;
    private final int dim;

    public PriorStage(LoadedStage stage) {
        this(stage, Scheduling.DEFAULT);
    }

    /** With its step scheduler configured: requests sampling at once share each model call. */
    public PriorStage(LoadedStage stage, Scheduling scheduling) {
        if (stage.kind() != StageKind.PRIOR) {
            throw new IllegalArgumentException(stage.name() + " is a " + stage.kind().id() + ", not a prior");
        }
        this.stage = stage;
        this.manifest = stage.manifest();
        this.runner = new DiffusionRunner(stage, scheduling);
        var sample = manifest.inputForRole("sample").orElseThrow();
        if (sample.rank() != 2) {
            throw new IllegalArgumentException(stage.name() + ": the prior's sample input must be [batch, E], got "
                    + sample.shapeText());
        }
        this.dim = (int) sample.fixedDim(1).orElse(manifest.conditioning().embeddingDim().orElse(-1));
    }

    public LoadedStage stage() {
        return stage;
    }

    /** The step scheduler this stage's requests share. */
    public io.unclip.engine.schedule.StepScheduler scheduler() {
        return runner.scheduler();
    }

    /** E, the image embedding width (-1 when neither the sample input nor the manifest fixes it). */
    public int embeddingDim() {
        return dim;
    }

    /** The manifest defaults with {@code overrides} applied. */
    public SamplerSettings settings(SamplerOverrides overrides) {
        return SamplerSettings.forStage(manifest, overrides);
    }

    /**
     * Samples the settings' {@code candidates} embeddings per image (the manifest's, default
     * {@value io.unclip.engine.model.DiffusionSpec#PRIOR_CANDIDATES}, or the request's) and keeps the best.
     *
     * @param text    conditioning, one row per request row (row r for image {@code imageIndices[r]})
     * @param uncond  the empty prompt's conditioning (1 row), used when guided
     * @param request seed, image indices and overrides
     */
    public PriorResult sample(TextConditioning text, TextConditioning uncond, DiffusionRequest request,
                              RunContext ctx) {
        int n = request.rows();
        if (text.rows() != n) {
            throw new IllegalArgumentException("prior: " + text.rows() + " text rows for " + n + " images");
        }
        SamplerSettings settings = settings(request.overrides());
        int candidates = settings.candidates();
        int e = dim > 0 ? dim : (int) text.textEmbeds().dim(1);
        int rows = n * candidates;
        int[] textRow = new int[rows];
        int[] images = new int[rows];
        int[] cands = new int[rows];
        int[] imageIndices = request.imageIndices();
        for (int r = 0; r < rows; r++) {
            textRow[r] = r / candidates;
            images[r] = imageIndices[r / candidates];
            cands[r] = r % candidates;
        }
        TextConditioning model = text.gather(textRow);
        if (settings.guided()) {
            if (uncond == null) {
                throw new IllegalArgumentException("prior: guidance needs the unconditional (empty prompt) text");
            }
            model = model.concat(LearnedUnconditional.text(manifest, uncond.repeat(0, rows)));
        }
        TextConditioning rowsText = model;
        if (StageRun.has(manifest, "text_hidden") && rowsText.hiddenStates() == null) {
            throw new IllegalArgumentException(stage.name() + " needs per-token text features (text_hidden), the text"
                    + " encoder gives none");
        }
        DiffusionRunner.Conditioning conditioning = (in, modelRows) -> putText(in, rowsText);
        DiffusionRunner.Outcome out = runner.run(new long[] {rows, e},
                RowNoise.of(request.seed(), NOISE_STREAM, images, cands), settings, conditioning, null, false,
                null, null, 0, ctx);

        Finite.output(out.sample(), "prior", "text", "the text conditioning is probably out of range");
        float[] all = out.sample().toArray();
        manifest.normalization().ifPresent(norm -> denormalize(all, norm, e));
        Tensor candidatesTensor = Tensor.of(all, rows, e);
        double[] scores = CandidateRanking.scores(candidatesTensor, text.textEmbeds(), candidates);
        int[] best = CandidateRanking.best(scores, candidates);
        int[] chosen = new int[n];
        Tensor kept = Tensor.zeros(n, e);
        for (int i = 0; i < n; i++) {
            chosen[i] = best[i] - i * candidates;
            kept.buffer().put(i * e, all, best[i] * e, e);
        }
        return new PriorResult(kept, candidatesTensor, scores, chosen, candidates, settings, out.timings());
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
    }

    static void denormalize(float[] x, Normalization norm, int e) {
        float[] mean = norm.mean();
        float[] std = norm.std();
        if (mean.length != e) {
            throw new IllegalArgumentException("normalization has " + mean.length + " values, embeddings have " + e);
        }
        for (int i = 0; i < x.length; i++) {
            int d = i % e;
            x[i] = x[i] * std[d] + mean[d];
        }
    }
}
