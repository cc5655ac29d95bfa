package io.unclip.cli.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Fréchet distance and the Jacobi eigensolver under it, against hand-computed cases. */
class FrechetDistanceTest {
    private static List<float[]> gaussian(int n, int d, long seed, double scale) {
        Random r = new Random(seed);
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] f = new float[d];
            for (int j = 0; j < d; j++) {
                f[j] = (float) (r.nextGaussian() * scale * (1 + j % 3));
            }
            out.add(f);
        }
        return out;
    }

    @Test
    void identicalSetsAreAtDistanceZero() {
        List<float[]> a = gaussian(200, 12, 1, 1.0);
        assertEquals(0.0, FrechetDistance.between(a, a), 1e-9);
    }

    @Test
    void shiftedMeansGiveTheSquaredShift() {
        List<float[]> a = gaussian(100, 6, 2, 1.0);
        float[] delta = {1f, -2f, 0.5f, 0f, 3f, -1f};
        List<float[]> b = new ArrayList<>();
        for (float[] f : a) {
            float[] g = f.clone();
            for (int j = 0; j < g.length; j++) {
                g[j] += delta[j];
            }
            b.add(g);
        }
        double expected = 1 + 4 + 0.25 + 0 + 9 + 1;
        // the covariances agree up to float rounding of the shifted features
        assertEquals(expected, FrechetDistance.between(a, b), 1e-4);
    }

    @Test
    void diagonalCovariances() {
        // N(0, diag(a)) vs N(0, diag(b)): sum (sqrt(a_i) - sqrt(b_i))^2
        double[][] c1 = {{4, 0, 0}, {0, 1, 0}, {0, 0, 9}};
        double[][] c2 = {{1, 0, 0}, {0, 1, 0}, {0, 0, 16}};
        double[] mu = {0, 0, 0};
        assertEquals(1 + 0 + 1, FrechetDistance.distance(mu, c1, mu, c2), 1e-12);
    }

    @Test
    void nonCommutingCovariances() {
        // identity vs [[2,1],[1,2]] (eigenvalues 3 and 1): 2 + 4 - 2 (sqrt 3 + 1) = 4 - 2 sqrt 3
        double[][] id = {{1, 0}, {0, 1}};
        double[][] c = {{2, 1}, {1, 2}};
        double[] mu = {0, 0};
        assertEquals(4 - 2 * Math.sqrt(3), FrechetDistance.distance(mu, id, mu, c), 1e-12);
        // two general 2x2 covariances: C1 C2 has positive eigenvalues l1, l2, and
        // (sqrt l1 + sqrt l2)^2 = tr(C1 C2) + 2 sqrt(det(C1 C2))
        double[][] c1 = {{3, 1}, {1, 2}};
        double[][] c2 = {{1, -0.5}, {-0.5, 4}};
        double tr = (3 * 1 + 1 * -0.5) + (1 * -0.5 + 2 * 4);
        double det = (3 * 2 - 1 * 1) * (1 * 4 - 0.25);
        double trSqrt = Math.sqrt(tr + 2 * Math.sqrt(det));
        double[] m1 = {1, 2};
        double[] m2 = {0, 0};
        double expected = 5 + (3 + 2) + (1 + 4) - 2 * trSqrt;
        assertEquals(expected, FrechetDistance.distance(m1, c1, m2, c2), 1e-12);
        assertEquals(expected, FrechetDistance.distance(m2, c2, m1, c1), 1e-12);
    }

    @Test
    void singularCovariancesStayFiniteAndSymmetric() {
        // fewer samples than dimensions: rank-deficient covariances, no regularising offset needed
        List<float[]> a = gaussian(5, 16, 3, 1.0);
        List<float[]> b = gaussian(7, 16, 4, 2.0);
        double ab = FrechetDistance.between(a, b);
        double ba = FrechetDistance.between(b, a);
        assertTrue(Double.isFinite(ab) && ab > 0, "d = " + ab);
        assertEquals(ab, ba, 1e-6 * ab);
        assertEquals(0.0, FrechetDistance.between(a, a), 1e-9);
    }

    @Test
    void covarianceIsTheUnbiasedSampleCovariance() {
        List<float[]> x = List.of(new float[] {1, 2}, new float[] {3, 6}, new float[] {5, 4});
        FrechetDistance.Gaussian g = FrechetDistance.fit(x);
        assertArrayEquals(new double[] {3, 4}, g.mean(), 1e-12);
        // deviations (-2,-2), (0,2), (2,0): sums xx 8, xy 4, yy 8, over n - 1 = 2
        assertArrayEquals(new double[] {4, 2}, g.cov()[0], 1e-12);
        assertArrayEquals(new double[] {2, 4}, g.cov()[1], 1e-12);
    }

    @Test
    void jacobiReconstructsASymmetricMatrix() {
        int n = 30;
        Random r = new Random(5);
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                a[i][j] = r.nextGaussian();
                a[j][i] = a[i][j];
            }
        }
        SymmetricEigen e = SymmetricEigen.of(a);
        double[][] v = e.vectors();
        for (int k = 1; k < n; k++) {
            assertTrue(e.values()[k - 1] <= e.values()[k], "ascending");
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double rec = 0;
                double orth = 0;
                for (int k = 0; k < n; k++) {
                    rec += v[i][k] * e.values()[k] * v[j][k];
                    orth += v[k][i] * v[k][j];
                }
                assertEquals(a[i][j], rec, 1e-10, "A = V L V^T at " + i + "," + j);
                assertEquals(i == j ? 1 : 0, orth, 1e-12, "V^T V = I at " + i + "," + j);
            }
        }
    }

    @Test
    void knownEigenvaluesAndSquareRoot() {
        SymmetricEigen e = SymmetricEigen.of(new double[][] {{2, 1}, {1, 2}});
        assertArrayEquals(new double[] {1, 3}, e.values(), 1e-14);
        double[][] s = e.sqrtPsd();
        double[][] ss = FrechetDistance.multiply(s, s);
        assertArrayEquals(new double[] {2, 1}, ss[0], 1e-12);
        assertArrayEquals(new double[] {1, 2}, ss[1], 1e-12);
        // a diagonal matrix needs no rotation
        assertArrayEquals(new double[] {-1, 5}, SymmetricEigen.of(new double[][] {{5, 0}, {0, -1}}).values(), 0);
    }
}
