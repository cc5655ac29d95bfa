package io.unclip.engine.stage;

import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.tensor.Tensor;

/**
 * One 4x super-resolution step of the cascade (DALL-E 2 section 2.2: ADM-style upsamplers).
 *
 * <ul>
 *   <li>The low-resolution image is resized to the output size with the manifest's
 *       {@code lowres_resize} (torch {@code F.interpolate}, e.g. bilinear with
 *       align_corners=False, see {@link ImageResize}) and concatenated to the noisy sample along
 *       channels to form the model's {@code sample} input; a model with a separate
 *       {@code low_res} input gets the low-resolution image there instead, unresized.</li>
 *   <li>With the manifest's {@code lowres_antialias} the resize is torch's {@code antialias=True}
 *       one (diffusers' UnCLIPPipeline: bicubic, antialiased).</li>
 *   <li>Few steps by default (the manifest's respacing, e.g. "ddim10"); no guidance by default.
 *       With a guidance scale other than 1 the unconditional rows get a zero image embedding, or
 *       the manifest's learned one (only for models with an {@code image_embeds} input).</li>
 *   <li>A manifest with {@code last_step_onnx} (diffusers' super_res_last) runs the final step
 *       through that graph ({@link StageStepModel}); {@code clamp_output} clamps the result to
 *       [-1, 1].</li>
 *   <li>Noise: image i reads stream (seed, "upsampler", i, cascadeStep).</li>
 * </ul>
 * Thread-safe.
 */
public final class UpsamplerStage {
    public static final String NOISE_STREAM = "upsampler";

    private final LoadedStage stage;
    private final StageManifest manifest;
    private final DiffusionRunner runner;
    private final int cascadeStep;
    private final int inputSize;
    private final int outputSize;
    private final int channels;
    private final boolean separateLowRes;
    private final ImageResize.Mode resize;

    /** @param cascadeStep this upsampler's 0-based position among the bundle's upsamplers */
    public UpsamplerStage(LoadedStage stage, int cascadeStep) {
        this(stage, cascadeStep, Scheduling.DEFAULT);
    }

    /** With its step scheduler configured: requests sampling at once share each model call. */
    public UpsamplerStage(LoadedStage stage, int cascadeStep, Scheduling scheduling) {
        if (stage.kind() != StageKind.UPSAMPLER) {
            throw new IllegalArgumentException(stage.name() + " is a " + stage.kind().id() + ", not an upsampler");
        }
        if (cascadeStep < 0) {
            throw new IllegalArgumentException("cascade step must be >= 0, got " + cascadeStep);
        }
        this.stage = stage;
        this.manifest = stage.manifest();
        this.runner = new DiffusionRunner(stage, scheduling);
        this.cascadeStep = cascadeStep;
        var res = manifest.resolution().orElseThrow();
        this.inputSize = res.input().getAsInt();
        this.outputSize = res.output().getAsInt();
        this.separateLowRes = StageRun.has(manifest, "low_res");
        long sampleChannels = manifest.inputForRole("sample").orElseThrow().fixedDim(1).orElse(separateLowRes ? 3 : 6);
        this.channels = (int) (separateLowRes ? sampleChannels : sampleChannels / 2);
        this.resize = ImageResize.Mode.fromName(manifest.lowresResize().orElse("bilinear"));
    }

    public LoadedStage stage() {
        return stage;
    }

    /** The step scheduler this stage's requests share. */
    public io.unclip.engine.schedule.StepScheduler scheduler() {
        return runner.scheduler();
    }

    public int cascadeStep() {
        return cascadeStep;
    }

    public int inputSize() {
        return inputSize;
    }

    public int outputSize() {
        return outputSize;
    }

    public ImageResize.Mode lowResResize() {
        return resize;
    }

    public SamplerSettings settings(SamplerOverrides overrides) {
        return SamplerSettings.forStage(manifest, overrides);
    }

    /** Writes x_t [B, C, H, W] into the first C channels of each row of {@code input} [B, 2C, H, W]. */
    private static Tensor withNoisySample(Tensor input, Tensor x) {
        int rows = (int) x.dim(0);
        int item = x.itemSize();
        for (int r = 0; r < rows; r++) {
            input.buffer().put(r * 2 * item, x.buffer(), r * item, item);
        }
        return input;
    }

    /**
     * @param lowRes      {@code [N, C, in, in]} from the previous stage
     * @param imageEmbeds {@code [N, E]} for models with an image_embeds input, else may be null
     * @param inpaint     known pixels at {@link #outputSize()}, or null
     */
    public DiffusionOutput upsample(Tensor lowRes, Tensor imageEmbeds, DiffusionRequest request, Inpainting inpaint,
                                    RunContext ctx) {
        int n = request.rows();
        if (lowRes.rank() != 4 || lowRes.dim(0) != n || lowRes.dim(1) != channels || lowRes.dim(2) != inputSize
                || lowRes.dim(3) != inputSize) {
            throw new IllegalArgumentException(stage.name() + ": expects " + n + " images of " + channels + "x"
                    + inputSize + "x" + inputSize + ", got " + lowRes);
        }
        SamplerSettings settings = settings(request.overrides());
        boolean guided = settings.guided();
        Tensor embeds = null;
        if (StageRun.has(manifest, "image_embeds")) {
            if (imageEmbeds == null || imageEmbeds.dim(0) != n) {
                throw new IllegalArgumentException(stage.name() + ": needs " + n + " image embeddings, got "
                        + imageEmbeds);
            }
            embeds = guided ? Tensors.concatRows(imageEmbeds,
                    LearnedUnconditional.imageEmbeds(manifest, n, (int) imageEmbeds.dim(1))) : imageEmbeds;
        }
        Tensor lowRows = guided ? Tensors.concatRows(lowRes, lowRes) : lowRes;
        // the model's sample input [x_t, upsampled low-res] is built once; each step rewrites the x_t channels
        Tensor modelInput = separateLowRes ? null : Tensors.concatChannels(
                Tensor.zeros(lowRows.dim(0), channels, outputSize, outputSize),
                ImageResize.resize(lowRows, outputSize, outputSize, resize, manifest.lowresAntialias()));
        Tensor e = embeds;
        DiffusionRunner.Conditioning conditioning = (in, modelRows) -> {
            if (separateLowRes) {
                StageRun.put(in, manifest, "low_res", lowRows);
            }
            if (e != null) {
                StageRun.put(in, manifest, "image_embeds", e);
            }
        };
        int[] images = request.imageIndices();
        DiffusionRunner.Outcome out = runner.run(new long[] {n, channels, outputSize, outputSize},
                RowNoise.of(request.seed(), NOISE_STREAM, cascadeStep, images), settings, conditioning,
                separateLowRes ? null : x -> withNoisySample(modelInput, x), true,
                inpaint == null ? null : inpaint.resized(outputSize),
                inpaint == null ? null : RowNoise.of(request.seed(), NOISE_STREAM + "/inpaint", cascadeStep, images),
                cascadeStep, ctx);
        Finite.output(out.sample(), "upsampler", "images", "the low-resolution images (or embeddings) are probably out"
                + " of range");
        return new DiffusionOutput(LearnedUnconditional.clampIfAsked(manifest, out.sample()), settings, out.timings());
    }
}
