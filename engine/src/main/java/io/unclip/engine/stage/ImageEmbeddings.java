package io.unclip.engine.stage;

import io.unclip.engine.tensor.Tensor;

/**
 * The image embeddings that replace the prior's output in DALL-E 2's image manipulations: the
 * same embedding for every variation (Figure 3), slerp frames between two images' embeddings
 * (Figure 4), and frames that move one image's embedding towards a text difference (Figure 5). Shared by the embedded cascade and the distributed text encoder, so both
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

    /**
     * Text diffs (DALL-E 2 Figure 5): frames slerped from the direction of {@code image} towards
     * the direction of the text difference {@code target - source}, at positions
     * {@code maxPosition * f / (frames - 1)}, each scaled back to the image embedding's norm: [frames, E].
     *
     * @throws IllegalArgumentException when {@code target} and {@code source} are the same vector
     */
    public static Tensor textDiffFrames(float[] image, float[] target, float[] source, int frames,
                                        double maxPosition) {
        float[] diff = new float[target.length];
        for (int i = 0; i < diff.length; i++) {
            diff[i] = target[i] - source[i];
        }
        double dn = Tensors.norm(diff);
        if (dn == 0) {
            throw new IllegalArgumentException("the text difference is zero");
        }
        double in = Tensors.norm(image);
        float[] unitI = new float[image.length];
        float[] unitD = new float[image.length];
        for (int i = 0; i < image.length; i++) {
            unitI[i] = (float) (image[i] / in);
            unitD[i] = (float) (diff[i] / dn);
        }
        Tensor out = Tensor.zeros(frames, image.length);
        for (int f = 0; f < frames; f++) {
            float[] v = Tensors.slerp(unitI, unitD, maxPosition * f / (frames - 1));
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (v[i] * in);
            }
            out.buffer().put(f * image.length, v);
        }
        return out;
    }
}
