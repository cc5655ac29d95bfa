package io.unclip.engine.stage;

import java.util.Arrays;

import io.unclip.engine.tensor.Tensor;

/**
 * Best of K by CLIP similarity, for the prior's embeddings and the decoder's images alike: each
 * candidate is scored by the cosine of its embedding with its image's target (the prompt's text
 * embedding, or the image embedding a decoder candidate was decoded from). Ties keep the lower
 * candidate, so candidate 0 wins a draw.
 */
public final class CandidateRanking {
    private CandidateRanking() {
    }

    /**
     * @param embedded {@code [N * K, E]}, row {@code i * K + c} = candidate c of image i
     * @param targets  {@code [N, E]}
     * @return for each image i, the row of its best candidate
     */
    public static int[] best(Tensor embedded, Tensor targets, int k) {
        return best(scores(embedded, targets, k), k);
    }

    /** The cosine of every candidate row with its image's target, row {@code i * K + c}. */
    public static double[] scores(Tensor embedded, Tensor targets, int k) {
        int n = (int) targets.dim(0);
        int e = (int) targets.dim(1);
        if (embedded.rank() != 2 || embedded.dim(0) != (long) n * k || embedded.dim(1) != e) {
            throw new IllegalArgumentException("ranking " + embedded + " as " + k + " candidates of " + n
                    + " images against " + targets + ": the candidates' embedding must have the target's width");
        }
        float[] all = embedded.toArray();
        float[] goal = targets.toArray();
        double[] scores = new double[n * k];
        for (int r = 0; r < n * k; r++) {
            int i = r / k;
            scores[r] = Tensors.cosine(Arrays.copyOfRange(all, r * e, (r + 1) * e),
                    Arrays.copyOfRange(goal, i * e, (i + 1) * e));
        }
        return scores;
    }

    /** For each of the {@code scores.length / k} images, the row of its highest score. */
    public static int[] best(double[] scores, int k) {
        int[] kept = new int[scores.length / k];
        for (int i = 0; i < kept.length; i++) {
            kept[i] = i * k;
            for (int r = i * k + 1; r < (i + 1) * k; r++) {
                if (scores[r] > scores[kept[i]]) {
                    kept[i] = r;
                }
            }
        }
        return kept;
    }
}
