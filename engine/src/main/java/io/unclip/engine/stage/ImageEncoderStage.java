package io.unclip.engine.stage;

import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.tensor.Tensor;

/**
 * Image encoder stage (CLIP's image tower): images to CLIP image embeddings, the decoder's
 * conditioning for variations and interpolations.
 *
 * <p>Contract: the model's {@code image} input is RGB in [-1, 1] like every image tensor of the
 * engine (a model that wants CLIP's mean/std normalisation applies it inside its graph); images of
 * any size are centre-cropped to a square and resized to {@code resolution.input} (area when
 * shrinking, bilinear when enlarging). The output {@code image_embeds} is what the decoder takes,
 * unnormalised, as the prior's de-normalised output is. Thread-safe.
 */
public final class ImageEncoderStage {
    private final LoadedStage stage;
    private final StageManifest manifest;
    private final String outputName;
    private final int inputSize;

    public ImageEncoderStage(LoadedStage stage) {
        if (stage.kind() != StageKind.IMAGE_ENCODER) {
            throw new IllegalArgumentException(stage.name() + " is a " + stage.kind().id() + ", not an image_encoder");
        }
        this.stage = stage;
        this.manifest = stage.manifest();
        this.outputName = manifest.outputName("image_embeds");
        this.inputSize = manifest.resolution().orElseThrow().input().getAsInt();
    }

    public LoadedStage stage() {
        return stage;
    }

    public int inputSize() {
        return inputSize;
    }

    /** {@code [N, 3, H, W]} in [-1, 1] to {@code [N, E]}, in one model call. */
    public Tensor encode(Tensor images, RunContext ctx) {
        Tensor input = ImageResize.toSize(ImageResize.centerCropSquare(images), inputSize, ImageResize.Mode.BILINEAR);
        StageRun run = StageRun.start(stage, 0, ctx, 1, (int) input.dim(0));
        run.checkCancelled(0, 1);
        ModelInputs in = ModelInputs.create();
        StageRun.put(in, manifest, "image", input);
        Tensor out = Finite.output(run.call(in).get(outputName), "image encoder", "image",
                "the image's pixels are probably out of range");
        run.progress(1, 1, null);
        run.finish(1);
        return out;
    }
}
