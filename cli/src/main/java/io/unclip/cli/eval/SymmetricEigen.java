package io.unclip.cli.eval;

/**
 * Eigendecomposition of a real symmetric matrix by the cyclic Jacobi method (Golub and Van Loan, Matrix
 * Computations, algorithm 8.5.3): plane rotations zero one off-diagonal pair at a time, sweeping over all pairs
 * until the off-diagonal mass is negligible. Slower than tridiagonal QR (a few sweeps of O(n^3) each), but short,
 * unconditionally stable and accurate to working precision for the small matrices of the evaluation (feature
 * covariances of a few hundred dimensions at most).
 *
 * @param values  eigenvalues, ascending
 * @param vectors eigenvectors as columns: {@code vectors[i][k]} is component i of the eigenvector of {@code values[k]}
 */
public record SymmetricEigen(double[] values, double[][] vectors) {
    private static final int MAX_SWEEPS = 100;

    /**
     * Decomposes {@code a} (n x n, symmetric; only symmetric input is meaningful, the mean of a and its transpose is
     * used). The input is not modified.
     */
    public static SymmetricEigen of(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][n];
        for (int i = 0; i < n; i++) {
            if (a[i].length != n) {
                throw new IllegalArgumentException("not a square matrix: row " + i + " has " + a[i].length
                        + " columns, expected " + n);
            }
            for (int j = 0; j < n; j++) {
                double v = 0.5 * (a[i][j] + a[j][i]);
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("matrix has a non-finite entry at " + i + "," + j);
                }
                m[i][j] = v;
            }
        }
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) {
            v[i][i] = 1;
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                total += m[i][j] * m[i][j];
            }
        }
        double tol = 1e-30 * total; // squared: off-diagonal Frobenius norm below 1e-15 of the whole
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    off += m[p][q] * m[p][q];
                }
            }
            if (off <= tol || off == 0) {
                break;
            }
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    rotate(m, v, p, q);
                }
            }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = m[i][i];
        }
        // sort ascending, permuting the eigenvector columns alike
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(values[x], values[y]));
        double[] sortedValues = new double[n];
        double[][] sortedVectors = new double[n][n];
        for (int k = 0; k < n; k++) {
            sortedValues[k] = values[order[k]];
            for (int i = 0; i < n; i++) {
                sortedVectors[i][k] = v[i][order[k]];
            }
        }
        return new SymmetricEigen(sortedValues, sortedVectors);
    }

    /** One Jacobi rotation J(p, q, theta) chosen to zero m[p][q]: m = J^T m J, v = v J. */
    private static void rotate(double[][] m, double[][] v, int p, int q) {
        double apq = m[p][q];
        if (apq == 0) {
            return;
        }
        double tau = (m[q][q] - m[p][p]) / (2 * apq);
        double t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.hypot(1, tau));
        double c = 1 / Math.sqrt(1 + t * t);
        double s = t * c;
        int n = m.length;
        for (int k = 0; k < n; k++) { // m J: columns p and q
            double mkp = m[k][p];
            double mkq = m[k][q];
            m[k][p] = c * mkp - s * mkq;
            m[k][q] = s * mkp + c * mkq;
        }
        for (int k = 0; k < n; k++) { // J^T (m J): rows p and q
            double mpk = m[p][k];
            double mqk = m[q][k];
            m[p][k] = c * mpk - s * mqk;
            m[q][k] = s * mpk + c * mqk;
        }
        m[p][q] = 0;
        m[q][p] = 0;
        for (int k = 0; k < n; k++) {
            double vkp = v[k][p];
            double vkq = v[k][q];
            v[k][p] = c * vkp - s * vkq;
            v[k][q] = s * vkp + c * vkq;
        }
    }

    /**
     * {@code f(A) = V diag(f(lambda)) V^T} with {@code f(lambda) = sqrt(max(lambda, 0))}: the principal square root of
     * a positive semi-definite matrix (eigenvalues that rounding made slightly negative count as 0).
     */
    public double[][] sqrtPsd() {
        int n = values.length;
        double[] f = new double[n];
        for (int k = 0; k < n; k++) {
            f[k] = Math.sqrt(Math.max(values[k], 0));
        }
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += vectors[i][k] * f[k] * vectors[j][k];
                }
                out[i][j] = s;
                out[j][i] = s;
            }
        }
        return out;
    }
}
