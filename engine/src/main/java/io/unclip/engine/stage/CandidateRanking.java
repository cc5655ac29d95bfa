package io.unclip.engine.stage;

import io.unclip.engine.tensor.Tensor;

/**
 * Best of K by CLIP similarity: the decoder's candidates are ranked by the cosine of each one's
 * image embedding with its image's target embedding (the prompt's text embedding, or the image
 * embedding it was decoded from). Ties keep the lower candidate, so candidate 0 wins a draw.
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
        int n = (int) targets.dim(0);
        int e = (int) targets.dim(1);
        if (embedded.rank() != 2 || embedded.dim(0) != (long) n * k || embedded.dim(1) != e) {
            throw new IllegalArgumentException("ranking " + embedded + " as " + k + " candidates of " + n
                    + " images against " + targets + ": the image encoder's embedding must have the target's width");
        }
        float[] all = embedded.toArray();
        float[] goal = targets.toArray();
        int[] kept = new int[n];
        for (int i = 0; i < n; i++) {
            float[] t = java.util.Arrays.copyOfRange(goal, i * e, (i + 1) * e);
            double best = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                int r = i * k + c;
                double score = Tensors.cosine(java.util.Arrays.copyOfRange(all, r * e, (r + 1) * e), t);
                if (score > best) {
                    best = score;
                    kept[i] = r;
                }
            }
        }
        return kept;
    }
}
