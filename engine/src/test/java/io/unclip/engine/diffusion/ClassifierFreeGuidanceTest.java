package io.unclip.engine.diffusion;

import io.unclip.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ClassifierFreeGuidanceTest {
    // N = 2, C = 2, C' = 4 (learned variance), spatial = 3: [2N, 4, 3]
    private static final int N = 2;
    private static final int C = 2;
    private static final int OUT_C = 4;
    private static final int S = 3;

    private static float[] batched() {
        float[] b = new float[2 * N * OUT_C * S];
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) Math.sin(i * 0.7) * (i + 1);
        }
        return b;
    }

    private static int at(int row, int channel, int s) {
        return (row * OUT_C + channel) * S + s;
    }

    @Test
    void scaleOneIsTheConditionalOutput() {
        float[] in = batched();
        float[] out = new float[N * OUT_C * S];
        new ClassifierFreeGuidance(1.0).combine(in, N, C, OUT_C, S, out);
        float[] cond = java.util.Arrays.copyOf(in, N * OUT_C * S);
        assertArrayEquals(cond, out);
    }

    @Test
    void scaleAppliesToPredictionChannelsAndVarianceComesFromConditional() {
        float[] in = batched();
        float[] out = new float[N * OUT_C * S];
        float s = 3.5f;
        new ClassifierFreeGuidance(s).combine(in, N, C, OUT_C, S, out);
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < OUT_C; c++) {
                for (int k = 0; k < S; k++) {
                    float cond = in[at(n, c, k)];
                    float uncond = in[at(N + n, c, k)];
                    float expected = c < C ? uncond + s * (cond - uncond) : cond;
                    assertEquals(expected, out[at(n, c, k)], 0f, "n=" + n + " c=" + c + " s=" + k);
                }
            }
        }
    }

    @Test
    void scaleZeroIsTheUnconditionalPrediction() {
        float[] in = batched();
        float[] out = new float[N * OUT_C * S];
        new ClassifierFreeGuidance(0).combine(in, N, C, OUT_C, S, out);
        assertEquals(in[at(N + 1, 1, 2)], out[at(1, 1, 2)], 0f);
        assertEquals(in[at(1, 3, 2)], out[at(1, 3, 2)], 0f); // variance still conditional
    }

    @Test
    void tensorFormMatchesArrayForm() {
        float[] in = batched();
        Tensor guided = new ClassifierFreeGuidance(2).combine(Tensor.of(in, 2 * N, OUT_C, S), C);
        float[] out = new float[N * OUT_C * S];
        new ClassifierFreeGuidance(2).combine(in, N, C, OUT_C, S, out);
        assertArrayEquals(new long[] {N, OUT_C, S}, guided.shape());
        assertArrayEquals(out, guided.toArray());
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new ClassifierFreeGuidance(Double.NaN));
        assertThrows(IllegalArgumentException.class,
                () -> new ClassifierFreeGuidance(2).combine(new float[10], N, C, OUT_C, S, new float[24]));
        assertThrows(IllegalArgumentException.class,
                () -> new ClassifierFreeGuidance(2).combine(batched(), N, 5, OUT_C, S, new float[24]));
        assertThrows(IllegalArgumentException.class,
                () -> new ClassifierFreeGuidance(2).combine(Tensor.zeros(3, 4, 3), C));
    }
}
