package io.unclip.engine.diffusion;

import io.unclip.engine.tensor.Tensor;

import java.nio.FloatBuffer;

/**
 * One request's walk down its own respaced chain: x_t, the next step, its noise streams, its
 * guidance and hook. It is the only state of a sampling run; a driver ({@link DiffusionSampler},
 * or a step scheduler that shares each model call among many states) only moves rows:
 * {@link #beginStep()} gives the model rows of x_t, {@link #endStep} takes the model's output for
 * those rows and advances.
 *
 * <p>The arithmetic of a step reads nothing but this state and its own output rows, so a sample
 * is the same bits whatever else shares the model call. Not thread-safe: one driver at a time.
 */
public final class SamplingState {
    private final DenoisingStep step;
    private final SampleLayout layout;
    private final long[] shape;
    private final NoiseSource noise;
    private final ClassifierFreeGuidance guidance;
    private final ClassifierGuidance classifier;
    private final float[] classifierGradient; // null without classifier guidance
    private final SampleHook hook;
    private final StepListener listener;
    private final float[] x;
    private final Tensor modelInput;    // [x_t] or [x_t; x_t]
    private final float[] batchedOut;   // the guided rows before combining; null without guidance
    private final float[] modelOut;
    private final float[] stepNoise;
    private final StepResult result;
    private final Tensor preview;
    private final int outChannels;
    private final int total;
    private int done;
    private boolean inStep;
    private boolean noiseDrawn;

    /**
     * @param shape    [N, C, H, W] for images or [N, D] for vectors
     * @param xT       the initial noise, shaped like {@code shape} (copied)
     * @param noise    feeds the noisy steps, per row
     * @param guidance classifier-free guidance (2N model rows), or null (N rows)
     */
    public SamplingState(DenoisingStep step, long[] shape, float[] xT, NoiseSource noise,
                         ClassifierFreeGuidance guidance, SampleHook hook, StepListener listener) {
        this(step, shape, xT, noise, guidance, null, hook, listener);
    }

    /**
     * @param classifier ADM classifier guidance, or null; its classifier runs in {@link #endStep}, on
     *                   this state's x_t only
     */
    public SamplingState(DenoisingStep step, long[] shape, float[] xT, NoiseSource noise,
                         ClassifierFreeGuidance guidance, ClassifierGuidance classifier, SampleHook hook,
                         StepListener listener) {
        if (step == null || noise == null) {
            throw new IllegalArgumentException("denoising step and noise source are required");
        }
        this.step = step;
        this.layout = SampleLayout.of(shape);
        if (xT == null || xT.length != layout.size()) {
            throw new IllegalArgumentException("x_T must have " + layout.size() + " values");
        }
        this.shape = shape.clone();
        this.noise = noise;
        this.guidance = guidance;
        this.classifier = classifier;
        this.hook = hook == null ? SampleHook.NONE : hook;
        this.listener = listener == null ? StepListener.NONE : listener;
        this.x = xT.clone();
        long[] inputShape = shape.clone();
        inputShape[0] = modelRows();
        this.modelInput = Tensor.zeros(inputShape);
        this.outChannels = step.outputSpec().variance().outputChannels(layout.channels());
        int outSize = layout.batch() * outChannels * layout.spatial();
        this.batchedOut = guidance == null ? null : new float[2 * outSize];
        this.modelOut = new float[outSize];
        this.stepNoise = new float[layout.size()];
        this.classifierGradient = classifier == null ? null : new float[layout.size()];
        this.result = new StepResult(layout);
        this.preview = this.listener == StepListener.NONE ? null : Tensor.zeros(shape);
        this.total = step.diffusion().numSteps();
    }

    /** A state whose x_T is row r's first {@code product(shape[1..])} draws of {@code noise}. */
    public static SamplingState fromNoise(DenoisingStep step, long[] shape, NoiseSource noise,
                                          ClassifierFreeGuidance guidance, SampleHook hook, StepListener listener) {
        return fromNoise(step, shape, noise, guidance, null, hook, listener);
    }

    /** As {@link #fromNoise(DenoisingStep, long[], NoiseSource, ClassifierFreeGuidance, SampleHook, StepListener)}, with classifier guidance. */
    public static SamplingState fromNoise(DenoisingStep step, long[] shape, NoiseSource noise,
                                          ClassifierFreeGuidance guidance, ClassifierGuidance classifier,
                                          SampleHook hook, StepListener listener) {
        SampleLayout layout = SampleLayout.of(shape);
        if (noise == null) {
            throw new IllegalArgumentException("noise source is required");
        }
        float[] xT = new float[layout.size()];
        int item = layout.itemSize();
        for (int r = 0; r < layout.batch(); r++) {
            noise.fill(r, xT, r * item, item);
        }
        return new SamplingState(step, shape, xT, noise, guidance, classifier, hook, listener);
    }

    /** Rows this state puts in a model call: N, or 2N with guidance (cond rows, then uncond). */
    public int modelRows() {
        return guidance == null ? layout.batch() : 2 * layout.batch();
    }

    /** Output channels the model gives per row (C, or 2C with learned variance). */
    public int outputChannels() {
        return outChannels;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int stepsDone() {
        return done;
    }

    public int totalSteps() {
        return total;
    }

    public boolean finished() {
        return done == total;
    }

    /** The original (not respaced) timestep the model sees at the next step. */
    public long modelTimestep() {
        checkRunning();
        return step.diffusion().modelTimestep(index());
    }

    /**
     * Starts the next step: applies the hook to x_t and returns this state's model rows of x_t,
     * [modelRows, C, ...]. The tensor is reused by the next step.
     */
    public Tensor beginStep() {
        checkRunning();
        if (inStep) {
            throw new IllegalStateException("step " + done + " already begun");
        }
        inStep = true;
        hook.beforeModel(index(), x);
        modelInput.buffer().put(0, x);
        if (guidance != null) {
            modelInput.buffer().put(x.length, x); // the unconditional rows see the same x_t
        }
        return modelInput;
    }

    /**
     * Finishes the step begun by {@link #beginStep()} from the model's output for this state's
     * rows: {@code modelRows() * outputChannels() * spatial} values from {@code output} at
     * {@code offset}. Combines guidance, draws this step's noise, updates x_t and reports the step.
     */
    public void endStep(FloatBuffer output, int offset) {
        if (!inStep) {
            throw new IllegalStateException("endStep without beginStep");
        }
        int index = index();
        if (guidance == null) {
            output.get(offset, modelOut);
        } else {
            output.get(offset, batchedOut);
            guidance.combine(batchedOut, layout.batch(), layout.channels(), outChannels, layout.spatial(), modelOut);
        }
        drawNoise();
        if (classifier != null) {
            classifier.scaledGradient(x, layout, step.diffusion().modelTimestep(index), classifierGradient);
        }
        step.apply(index, x, modelOut, classifierGradient, stepNoise, layout, result);
        System.arraycopy(result.xPrev(), 0, x, 0, x.length);
        inStep = false;
        noiseDrawn = false;
        done++;
        if (preview != null) {
            preview.buffer().put(0, result.predX0());
            listener.onStep(done - 1, total, preview);
        }
        if (finished()) {
            hook.afterLast(x);
        }
    }

    /**
     * Draws the noise of the step begun, if it needs any, ahead of {@link #endStep} (which
     * otherwise draws it): a driver may do it while the model runs, on another thread, as long as
     * one thread at a time touches the state. The draws are the same whenever they are made.
     */
    public void drawNoise() {
        if (!inStep) {
            throw new IllegalStateException("drawNoise outside a step");
        }
        if (noiseDrawn) {
            return;
        }
        if (step.usesNoise(index())) {
            int item = layout.itemSize();
            for (int r = 0; r < layout.batch(); r++) {
                noise.fill(r, stepNoise, r * item, item);
            }
        }
        noiseDrawn = true;
    }

    /** The sample: x_0 once {@link #finished()}. */
    public Tensor sample() {
        if (!finished()) {
            throw new IllegalStateException("sampling not finished: " + done + " of " + total + " steps");
        }
        return Tensor.of(x.clone(), shape);
    }

    private int index() {
        return total - 1 - done;
    }

    private void checkRunning() {
        if (finished()) {
            throw new IllegalStateException("sampling already finished");
        }
    }
}
