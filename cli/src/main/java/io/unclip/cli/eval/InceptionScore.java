package io.unclip.cli.eval;

import java.util.List;

/**
 * The Inception Score (Salimans et al. 2016) over a classifier's label distributions {@code p(y|x)}, one per image:
 * <pre>
 *   IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = E_x p(y|x)
 * </pre>
 * with {@code 0 log 0 = 0}. It ranges from 1 (every image gets the same label distribution) to the number of
 * classes (confident, one-hot labels spread evenly over all classes). The evaluation's "classifier" is the bundle's
 * captioner (see {@link CaptionLabels}), not Inception-v3.
 */
public final class InceptionScore {
    private InceptionScore() {
    }

    /** IS of label distributions (each row sums to 1, all rows the same length); 1 for an empty list. */
    public static double of(List<double[]> pyx) {
        if (pyx.isEmpty()) {
            return 1.0;
        }
        int k = pyx.get(0).length;
        double[] py = new double[k];
        for (double[] p : pyx) {
            if (p.length != k) {
                throw new IllegalArgumentException("label distributions of different lengths: " + p.length + " and "
                        + k);
            }
            for (int y = 0; y < k; y++) {
                py[y] += p[y];
            }
        }
        for (int y = 0; y < k; y++) {
            py[y] /= pyx.size();
        }
        double kl = 0;
        for (double[] p : pyx) {
            for (int y = 0; y < k; y++) {
                if (p[y] > 0) {
                    kl += p[y] * Math.log(p[y] / py[y]);
                }
            }
        }
        return Math.exp(kl / pyx.size());
    }
}
