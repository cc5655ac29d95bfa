package io.unclip.cli.eval;

import java.util.List;

/**
 * The Fréchet distance between two Gaussians fitted to feature sets, as FID computes it (Heusel et al. 2017):
 * <pre>
 *   d^2 = |mu1 - mu2|^2 + tr(C1) + tr(C2) - 2 tr( (C1 C2)^(1/2) )
 * </pre>
 * The trace of the square root is computed without the non-symmetric product {@code C1 C2}: with
 * {@code S = C1^(1/2)} (symmetric, from the eigendecomposition of C1), {@code C1 C2} is similar to the symmetric
 * positive semi-definite {@code S C2 S}, so {@code tr((C1 C2)^(1/2)) = sum_k sqrt(lambda_k(S C2 S))}. Both
 * eigendecompositions are symmetric ({@link SymmetricEigen}), and eigenvalues that rounding pushed slightly below
 * zero count as zero, so singular covariances (fewer samples than dimensions) need no regularising offset.
 * As FID, the value reported is the squared distance {@code d^2}.
 */
public final class FrechetDistance {
    private FrechetDistance() {
    }

    /** Mean and covariance of a feature set. */
    public record Gaussian(double[] mean, double[][] cov, int samples) {
        public int dim() {
            return mean.length;
        }
    }

    /**
     * Fits mean and covariance (unbiased, divisor n - 1; a single sample has zero covariance) to {@code features}
     * (all of the same length).
     */
    public static Gaussian fit(List<float[]> features) {
        if (features.isEmpty()) {
            throw new IllegalArgumentException("no features");
        }
        int d = features.get(0).length;
        int n = features.size();
        double[] mean = new double[d];
        for (float[] f : features) {
            if (f.length != d) {
                throw new IllegalArgumentException("features of different lengths: " + f.length + " and " + d);
            }
            for (int i = 0; i < d; i++) {
                mean[i] += f[i];
            }
        }
        for (int i = 0; i < d; i++) {
            mean[i] /= n;
        }
        double[][] cov = new double[d][d];
        double[] x = new double[d];
        for (float[] f : features) {
            for (int i = 0; i < d; i++) {
                x[i] = f[i] - mean[i];
            }
            for (int i = 0; i < d; i++) {
                double xi = x[i];
                double[] row = cov[i];
                for (int j = i; j < d; j++) {
                    row[j] += xi * x[j];
                }
            }
        }
        double div = Math.max(n - 1, 1);
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                cov[i][j] /= div;
                cov[j][i] = cov[i][j];
            }
        }
        return new Gaussian(mean, cov, n);
    }

    /** The squared Fréchet distance between the Gaussians fitted to two feature sets. */
    public static double between(List<float[]> a, List<float[]> b) {
        return between(fit(a), fit(b));
    }

    /** The squared Fréchet distance between two Gaussians. */
    public static double between(Gaussian g1, Gaussian g2) {
        return distance(g1.mean(), g1.cov(), g2.mean(), g2.cov());
    }

    /** The squared Fréchet distance between N(mu1, c1) and N(mu2, c2); c1 and c2 symmetric positive semi-definite. */
    public static double distance(double[] mu1, double[][] c1, double[] mu2, double[][] c2) {
        int d = mu1.length;
        if (mu2.length != d || c1.length != d || c2.length != d) {
            throw new IllegalArgumentException("dimensions differ: means " + d + " and " + mu2.length
                    + ", covariances " + c1.length + " and " + c2.length);
        }
        double meanTerm = 0;
        for (int i = 0; i < d; i++) {
            double diff = mu1[i] - mu2[i];
            meanTerm += diff * diff;
        }
        double tr1 = 0;
        double tr2 = 0;
        for (int i = 0; i < d; i++) {
            tr1 += c1[i][i];
            tr2 += c2[i][i];
        }
        double[][] s = SymmetricEigen.of(c1).sqrtPsd();
        double[][] m = multiply(multiply(s, c2), s);
        double trSqrt = 0;
        for (double lambda : SymmetricEigen.of(m).values()) {
            trSqrt += Math.sqrt(Math.max(lambda, 0));
        }
        return Math.max(0, meanTerm + tr1 + tr2 - 2 * trSqrt);
    }

    static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length;
        int k = b.length;
        int m = b[0].length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            double[] row = out[i];
            for (int l = 0; l < k; l++) {
                double ail = a[i][l];
                if (ail == 0) {
                    continue;
                }
                double[] bl = b[l];
                for (int j = 0; j < m; j++) {
                    row[j] += ail * bl[j];
                }
            }
        }
        return out;
    }
}
