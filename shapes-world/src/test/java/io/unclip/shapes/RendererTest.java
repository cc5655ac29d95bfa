package io.unclip.shapes;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RendererTest {
    static Scene one(Shape shape, ObjectColor c, Size size, Background bg, double cx, double cy) {
        return new Scene(bg, List.of(new SceneObject(shape, c, size, Cell.nearest(cx, cy), cx, cy)));
    }

    @Test
    void sameSceneSameBytesAtEverySize() {
        for (int i = 0; i < 20; i++) {
            Scene s = SceneSampler.sample(3, i);
            for (int n : new int[] {32, 128, 512})
                assertArrayEquals(Renderer.render(s, n).data, Renderer.render(SceneSampler.sample(3, i), n).data);
        }
    }

    @Test
    void backgroundAndObjectCentrePixelsAreExactPaletteColours() {
        for (int i = 0; i < 100; i++) {
            Scene s = SceneSampler.sample(11, i);
            RgbImage img = Renderer.renderMaster(s);
            assertArrayEquals(s.background().rgb(), img.rgb(0, 0));
            assertArrayEquals(s.background().rgb(), img.rgb(511, 511));
            for (SceneObject o : s.objects()) {
                // a point well inside every shape: the box centre for all but the triangle, whose centroid is lower
                double y = o.shape() == Shape.TRIANGLE ? o.cy() + o.side() * 0.1 : o.cy();
                assertArrayEquals(o.color().rgb(), img.rgb((int) (o.cx() * 512), (int) (y * 512)), o.toString());
            }
            RgbImage small = Renderer.render(s, 32);
            assertArrayEquals(s.background().rgb(), small.rgb(0, 0));
        }
    }

    /** Measures the extent of non-background pixels, counting partial coverage. */
    static double[] extent(RgbImage img, int[] bg, int[] fg) {
        double[] col = new double[img.width], row = new double[img.height];
        for (int y = 0; y < img.height; y++)
            for (int x = 0; x < img.width; x++) {
                double a = (img.get(x, y, 0) - bg[0]) / (double) (fg[0] - bg[0]);
                col[x] = Math.max(col[x], a);
                row[y] = Math.max(row[y], a);
            }
        double w = 0, h = 0;
        for (double v : col) w += v;
        for (double v : row) h += v;
        return new double[] {w, h};
    }

    @Test
    void smallSquareMeasures022OfTheSide() {
        Scene s = one(Shape.SQUARE, ObjectColor.RED, Size.SMALL, Background.WHITE, 0.5137, 0.4911);
        RgbImage img = Renderer.renderMaster(s);
        // count fully covered rows/columns plus partial ones
        int minX = 512, maxX = -1, minY = 512, maxY = -1;
        for (int y = 0; y < 512; y++)
            for (int x = 0; x < 512; x++)
                if (!java.util.Arrays.equals(img.rgb(x, y), Background.WHITE.rgb())) {
                    minX = Math.min(minX, x); maxX = Math.max(maxX, x);
                    minY = Math.min(minY, y); maxY = Math.max(maxY, y);
                }
        double expected = 0.22 * 512; // 112.64
        assertEquals(expected, maxX - minX + 1, 1.5);
        assertEquals(expected, maxY - minY + 1, 1.5);
        double[] wh = extent(img, Background.WHITE.rgb(), ObjectColor.RED.rgb());
        assertEquals(expected, wh[0], 1.0);
        assertEquals(expected, wh[1], 1.0);
        wh = extent(Renderer.render(one(Shape.SQUARE, ObjectColor.RED, Size.LARGE, Background.WHITE, 0.5, 0.5), 512),
                Background.WHITE.rgb(), ObjectColor.RED.rgb());
        assertEquals(0.36 * 512, wh[0], 1.0);
    }

    @Test
    void triangleFitsItsBox() {
        Scene s = one(Shape.TRIANGLE, ObjectColor.BLUE, Size.LARGE, Background.BLACK, 0.5, 0.5);
        double[] wh = extent(Renderer.renderMaster(s), Background.BLACK.rgb(), ObjectColor.BLUE.rgb());
        assertEquals(0.36 * 512, wh[0], 1.0);
        assertEquals(0.36 * 512 * Math.sqrt(3) / 2, wh[1], 1.0);
        // apex at the top: the top row of the triangle is narrow, the bottom row wide
        RgbImage img = Renderer.renderMaster(s);
        int top = (int) Math.ceil((0.5 - 0.36 * Math.sqrt(3) / 4) * 512) + 2;
        int bottom = (int) Math.floor((0.5 + 0.36 * Math.sqrt(3) / 4) * 512) - 2;
        assertTrue(countFg(img, top) < 10 && countFg(img, bottom) > 170);
    }

    private static int countFg(RgbImage img, int y) {
        int c = 0;
        for (int x = 0; x < img.width; x++) if (img.get(x, y, 2) != Background.BLACK.b) c++;
        return c;
    }

    @Test
    void diamondAndCircleAreas() {
        for (Shape sh : new Shape[] {Shape.CIRCLE, Shape.DIAMOND, Shape.SQUARE, Shape.TRIANGLE}) {
            RgbImage img = Renderer.renderMaster(one(sh, ObjectColor.GREEN, Size.LARGE, Background.WHITE, 0.5, 0.5));
            double area = 0;
            for (int y = 0; y < 512; y++)
                for (int x = 0; x < 512; x++) area += (240 - img.get(x, y, 0)) / 200.0; // R: 240 -> 40
            double s = 0.36 * 512;
            double want = switch (sh) {
                case CIRCLE -> Math.PI * s * s / 4;
                case DIAMOND -> s * s / 2;
                case SQUARE -> s * s;
                case TRIANGLE -> s * s * Math.sqrt(3) / 4;
            };
            assertEquals(want, area, want * 0.005, sh.toString());
        }
    }

    @Test
    void smallerSizesAreAreaAveragesOfTheMaster() {
        Scene s = SceneSampler.sample(5, 3);
        RgbImage master = Renderer.renderMaster(s);
        for (int n : new int[] {32, 128}) {
            RgbImage img = Renderer.render(s, n);
            int f = 512 / n;
            for (int y = 0; y < n; y += 3)
                for (int x = 0; x < n; x += 3)
                    for (int c = 0; c < 3; c++) {
                        int sum = 0;
                        for (int j = 0; j < f; j++)
                            for (int i = 0; i < f; i++) sum += master.get(x * f + i, y * f + j, c);
                        assertEquals((sum + f * f / 2) / (f * f), img.get(x, y, c));
                    }
        }
        // a size that does not divide 512 still works and keeps the background
        RgbImage odd = Renderer.render(s, 100);
        assertEquals(100, odd.width);
        assertArrayEquals(s.background().rgb(), odd.rgb(0, 0));
    }

    @Test
    void pngRoundTrip(@TempDir Path dir) throws Exception {
        RgbImage img = Renderer.render(SceneSampler.sample(1, 1), 128);
        Path f = dir.resolve("a.png");
        img.writePng(f);
        assertEquals(img, RgbImage.readPng(f));
    }
}
