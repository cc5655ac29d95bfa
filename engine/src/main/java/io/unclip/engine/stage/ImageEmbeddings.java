package io.unclip.engine.stage;

import io.unclip.engine.tensor.Tensor;

/**
 * The image embeddings that replace the prior's output in DALL-E 2's image manipulations: the
 * same embedding for every variation (Figure 3), and slerp frames between two images'
 * embeddings (Figure 4). Shared by the embedded cascade and the distributed text encoder, so both
 * condition the decoder on the same bits.
 */
public final class ImageEmbeddings {
    private ImageEmbeddings() {
    }

    /** One image's embedding ({@code image} [1, 3, H, W]) repeated {@code n} times: [n, E]. */
    public static Tensor variations(ImageEncoderStage encoder, Tensor image, int n, RunContext ctx) {
        return Tensors.gatherRows(encoder.encode(image, ctx), new int[n]);
    }

    /**
     * {@code frames} embeddings slerped from image A's to image B's, both ends included: [frames, E].
     * Each image is center-cropped to a square and resized to the encoder's input; both are encoded
     * in one model call.
     */
    public static Tensor slerpFrames(ImageEncoderStage encoder, Tensor imageA, Tensor imageB, int frames,
                                     RunContext ctx) {
        int in = encoder.inputSize();
        Tensor both = encoder.encode(Tensors.concatRows(
                ImageResize.toSize(ImageResize.centerCropSquare(imageA), in, ImageResize.Mode.BILINEAR),
                ImageResize.toSize(ImageResize.centerCropSquare(imageB), in, ImageResize.Mode.BILINEAR)), ctx);
        int d = (int) both.dim(1);
        float[] a = new float[d];
        float[] b = new float[d];
        both.buffer().get(0, a);
        both.buffer().get(d, b);
        Tensor out = Tensor.zeros(frames, d);
        for (int f = 0; f < frames; f++) {
            out.buffer().put(f * d, Tensors.slerp(a, b, (double) f / (frames - 1)));
        }
        return out;
    }
}
