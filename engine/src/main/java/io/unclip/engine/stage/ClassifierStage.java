package io.unclip.engine.stage;

import io.unclip.engine.diffusion.ClassifierGuidance;
import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.tensor.Tensor;

import java.util.Arrays;

/**
 * Classifier stage: the noisy-image classifier of ADM classifier guidance (Dhariwal and Nichol
 * 2021), for the decoder's x_t. Its graph returns grad_x log p(y | x_t, t) itself; the labels y
 * come from the prompt ({@link ClassifierLabels}, {@code labels.json} beside the graph).
 *
 * <p>One call per guided request and step, on that request's rows only: the classifier is small
 * next to the decoder (see the model card for its cost per step), so its calls are not shared
 * between requests. Thread-safe.
 */
public final class ClassifierStage {
    public static final String LABELS_FILE = "labels.json";

    private final LoadedStage stage;
    private final StageManifest manifest;
    private final ClassifierLabels labels;
    private final String gradientName;
    private final int size;

    public ClassifierStage(LoadedStage stage) {
        if (stage.kind() != StageKind.CLASSIFIER) {
            throw new IllegalArgumentException(stage.name() + " is a " + stage.kind().id() + ", not a classifier");
        }
        this.stage = stage;
        this.manifest = stage.manifest();
        this.labels = ClassifierLabels.read(manifest.dir().resolve(LABELS_FILE));
        long declared = manifest.inputForRole("target").orElseThrow().fixedDim(1).orElse(labels.width());
        if (declared != labels.width()) {
            throw new IllegalArgumentException(stage.name() + ": the target input has " + declared + " labels, "
                    + LABELS_FILE + " has " + labels.width());
        }
        this.gradientName = manifest.outputName("gradient");
        this.size = manifest.resolution().orElseThrow().input().getAsInt();
    }

    public LoadedStage stage() {
        return stage;
    }

    public ClassifierLabels labels() {
        return labels;
    }

    /** The image size (square) of the x_t it classifies. */
    public int inputSize() {
        return size;
    }

    /**
     * Guidance towards the labels the prompt names, for {@code rows} rows of one request.
     *
     * @throws InvalidRequestException when the prompt names none of the classifier's labels
     */
    public ClassifierGuidance guidance(String prompt, int rows, double scale, String field) {
        float[] row = labels.target(prompt == null ? "" : prompt);
        boolean any = false;
        for (float v : row) {
            any |= v != 0f;
        }
        if (!any) {
            throw new InvalidRequestException(field, "classifier guidance needs a prompt naming one of the classifier's"
                    + " labels (" + String.join(", ", labels.heads().stream().map(ClassifierLabels.Head::name).toList())
                    + ")");
        }
        float[] target = new float[rows * row.length];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(row, 0, target, r * row.length, row.length);
        }
        Tensor targets = Tensor.of(target, new long[] {rows, row.length});
        return new ClassifierGuidance(scale, (x, layout, timestep, gradient) -> {
            if (layout.batch() != rows || layout.spatial() != size * size) {
                throw new IllegalArgumentException("classifier: x_t " + layout + " is not " + rows + " rows of "
                        + size + "x" + size);
            }
            ModelInputs in = ModelInputs.create();
            StageRun.put(in, manifest, "sample", Tensor.of(x, new long[] {rows, layout.channels(), size, size}));
            long[] t = new long[rows];
            Arrays.fill(t, timestep);
            StageRun.putIntegers(in, manifest, "timestep", t, rows);
            StageRun.put(in, manifest, "target", targets);
            Tensor g = stage.session().run(in).get(gradientName);
            g.buffer().get(0, gradient);
        });
    }
}
