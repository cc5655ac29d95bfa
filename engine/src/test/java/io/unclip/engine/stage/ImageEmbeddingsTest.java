package io.unclip.engine.stage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import io.unclip.engine.tensor.Tensor;

class ImageEmbeddingsTest {
    private static float[] row(Tensor t, int r) {
        float[] out = new float[(int) t.dim(1)];
        t.buffer().get(r * out.length, out);
        return out;
    }

    private static double angle(float[] a, float[] b) {
        return Math.acos(Math.max(-1, Math.min(1, Tensors.cosine(a, b))));
    }

    @Test
    void textDiffFramesRotateTheImageEmbeddingTowardsTheDifferenceKeepingItsNorm() {
        float[] image = {3, 0, 0};
        float[] target = {0, 2, 1};
        float[] source = {0, 0, 1}; // difference: +y, 90 degrees from the image
        Tensor frames = ImageEmbeddings.textDiffFrames(image, target, source, 3, 0.5);

        assertEquals(3, frames.dim(0));
        assertArrayEquals(image, row(frames, 0), 1e-6f, "the first frame is the image");
        for (int f = 0; f < 3; f++) {
            float[] v = row(frames, f);
            assertEquals(3.0, Tensors.norm(v), 1e-5, "frame " + f + " keeps the image embedding's norm");
            assertEquals(0.5 * f / 2 * Math.PI / 2, angle(image, v), 1e-5, "frame " + f + "'s angle");
            assertEquals(0f, v[2], 1e-6f, "only the difference's direction is added");
        }
    }

    @Test
    void aZeroTextDifferenceIsRefused() {
        float[] z = {1, 2, 3};
        assertThrows(IllegalArgumentException.class,
                () -> ImageEmbeddings.textDiffFrames(new float[] {1, 0, 0}, z, z.clone(), 4, 0.25));
    }
}
