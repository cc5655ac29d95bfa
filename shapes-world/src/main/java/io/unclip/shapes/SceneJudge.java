package io.unclip.shapes;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Reads a Shapes-World image (any size, clean render or generated) back into attributes and scores it against a
 * prompt.
 * <ol>
 *   <li><b>Background</b>: per-channel median of the border pixels, classified to the nearest background colour;
 *       the measured median (not the palette value) is the reference {@code b} below, so a tinted generated
 *       background still works.</li>
 *   <li><b>Mixture decomposition</b>: every pixel {@code p} is explained as {@code b + alpha*(c - b)} for each object
 *       colour {@code c}, with {@code alpha} the clamped least-squares coverage; the colour with the smallest residual
 *       wins. This is exactly how anti-aliased and area-averaged edge pixels form, so edges do not turn into spurious
 *       colours (half red on white is close to pink, but lies on the red line).</li>
 *   <li><b>Objects</b>: 8-connected components of pixels with {@code alpha >= 0.5}; the colour is the
 *       alpha-weighted vote of the component's pixels; the component is grown by one pixel and coverage is
 *       re-measured against that colour. Components of area below {@link #MIN_AREA} of the canvas are noise.</li>
 *   <li><b>Measurements</b> (sub-pixel, from coverage): width = sum over columns of the column's max coverage, height
 *       likewise over rows, centre = centroid of those profiles (the bounding-box centre), area = sum of coverage,
 *       fill = area / (width * height), vbias = (area centroid y - box top) / height.</li>
 *   <li><b>Shape</b>: template fit ({@link #fitShape}): each shape, sized to the measured area and centred on the
 *       measured box centre, is rendered as expected coverage and compared with the measured coverage; the smallest
 *       squared error wins (fill and vbias are reported as diagnostics).
 *       <b>Size</b>: max(width, height) &lt; 0.29 small (0.22) else large (0.36). <b>Cell</b>: nearest cell centre to
 *       the box centre (boundaries 0.36, 0.64).</li>
 * </ol>
 */
public final class SceneJudge {
    /** Components with less coverage than this fraction of the canvas are ignored (a small triangle is ~0.021). */
    public static final double MIN_AREA = 0.005;

    private static final ObjectColor[] COLORS = ObjectColor.values();

    private SceneJudge() {}

    public static Judgement judge(RgbImage img, String prompt) {
        return judge(img, CaptionParser.parse(prompt));
    }

    public static Judgement judge(RgbImage img, PromptSpec p) {
        return score(analyze(img), p);
    }

    /** Finds background and objects. */
    public static SceneAnalysis analyze(RgbImage img) {
        int w = img.width, h = img.height, n = w * h;
        double[] b = borderMedian(img);
        Background bg = nearestBackground(b);

        // per-pixel best colour and coverage
        byte[] cls = new byte[n];
        float[] alpha = new float[n];
        double[][] dirs = new double[COLORS.length][3];
        double[] dn = new double[COLORS.length];
        for (int k = 0; k < COLORS.length; k++) {
            int[] c = COLORS[k].rgb();
            for (int ch = 0; ch < 3; ch++) dirs[k][ch] = c[ch] - b[ch];
            dn[k] = dot(dirs[k], dirs[k]);
        }
        double[] v = new double[3];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < 3; ch++) v[ch] = (img.data[i * 3 + ch] & 0xFF) - b[ch];
            double vv = dot(v, v);
            if (vv < 4.0) { // within 2 levels of the background
                cls[i] = -1;
                continue;
            }
            int best = -1;
            double bestRes = Double.MAX_VALUE, bestA = 0;
            for (int k = 0; k < COLORS.length; k++) {
                if (dn[k] < 1e-9) continue;
                double a = Math.max(0, Math.min(1, dot(v, dirs[k]) / dn[k]));
                double res = vv - 2 * a * dot(v, dirs[k]) + a * a * dn[k];
                if (res < bestRes) {
                    bestRes = res;
                    best = k;
                    bestA = a;
                }
            }
            cls[i] = (byte) best;
            alpha[i] = (float) bestA;
        }

        // components of alpha >= 0.5
        int[] label = new int[n];
        java.util.Arrays.fill(label, 0);
        int[] stack = new int[n];
        List<DetectedObject> found = new ArrayList<>();
        int next = 0;
        for (int start = 0; start < n; start++) {
            if (label[start] != 0 || cls[start] < 0 || alpha[start] < 0.5f) continue;
            next++;
            int sp = 0;
            stack[sp++] = start;
            label[start] = next;
            List<Integer> members = new ArrayList<>();
            double[] votes = new double[COLORS.length];
            while (sp > 0) {
                int p = stack[--sp];
                members.add(p);
                votes[cls[p]] += alpha[p];
                int px = p % w, py = p / w;
                for (int dy = -1; dy <= 1; dy++) {
                    int y = py + dy;
                    if (y < 0 || y >= h) continue;
                    for (int dx = -1; dx <= 1; dx++) {
                        int x = px + dx;
                        if (x < 0 || x >= w) continue;
                        int q = y * w + x;
                        if (label[q] == 0 && cls[q] >= 0 && alpha[q] >= 0.5f) {
                            label[q] = next;
                            stack[sp++] = q;
                        }
                    }
                }
            }
            int color = 0;
            for (int k = 1; k < COLORS.length; k++) if (votes[k] > votes[color]) color = k;
            DetectedObject o = measure(img, b, dirs[color], dn[color], COLORS[color], members, label, next, w, h);
            if (o != null) found.add(o);
        }
        found.sort(Comparator.comparingDouble(DetectedObject::area).reversed());
        return new SceneAnalysis(bg, found);
    }

    private static DetectedObject measure(RgbImage img, double[] b, double[] dir, double dn, ObjectColor color,
                                          List<Integer> members, int[] label, int lab, int w, int h) {
        int minX = w, maxX = -1, minY = h, maxY = -1;
        for (int p : members) {
            int x = p % w, y = p / w;
            minX = Math.min(minX, x);
            maxX = Math.max(maxX, x);
            minY = Math.min(minY, y);
            maxY = Math.max(maxY, y);
        }
        // grown region: the component plus unlabelled (or same-labelled) neighbours within one pixel
        int x0 = Math.max(0, minX - 1), x1 = Math.min(w - 1, maxX + 1), y0 = Math.max(0, minY - 1), y1 = Math.min(h - 1, maxY + 1);
        int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
        boolean[] inRegion = new boolean[bw * bh];
        for (int p : members) {
            int x = p % w, y = p / w;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = x + dx, yy = y + dy;
                    if (xx < x0 || xx > x1 || yy < y0 || yy > y1) continue;
                    int l = label[yy * w + xx];
                    if (l == 0 || l == lab) inRegion[(yy - y0) * bw + (xx - x0)] = true;
                }
        }
        double[] colMax = new double[bw], rowMax = new double[bh];
        double[] cov = new double[bw * bh];
        double area = 0, sy = 0;
        for (int yy = 0; yy < bh; yy++)
            for (int xx = 0; xx < bw; xx++) {
                if (!inRegion[yy * bw + xx]) continue;
                int i = ((yy + y0) * w + (xx + x0)) * 3;
                double d = 0;
                for (int ch = 0; ch < 3; ch++) d += ((img.data[i + ch] & 0xFF) - b[ch]) * dir[ch];
                double a = Math.max(0, Math.min(1, d / dn));
                cov[yy * bw + xx] = a;
                area += a;
                sy += a * (yy + y0 + 0.5);
                colMax[xx] = Math.max(colMax[xx], a);
                rowMax[yy] = Math.max(rowMax[yy], a);
            }
        double side = Math.max(w, h);
        if (area / ((double) w * h) < MIN_AREA) return null;
        double width = 0, height = 0, mx = 0, my = 0;
        for (int xx = 0; xx < bw; xx++) {
            width += colMax[xx];
            mx += colMax[xx] * (xx + x0 + 0.5);
        }
        for (int yy = 0; yy < bh; yy++) {
            height += rowMax[yy];
            my += rowMax[yy] * (yy + y0 + 0.5);
        }
        double cx = mx / width, cy = my / height;
        double fill = area / (width * height);
        double top = cy - height / 2;
        double vbias = (sy / area - top) / height;
        Shape shape = fitShape(cov, x0, y0, bw, bh, cx, cy, area);
        double ext = Math.max(width / w, height / h);
        Size size = ext < 0.29 ? Size.SMALL : Size.LARGE;
        double ncx = cx / w, ncy = cy / h;
        return new DetectedObject(shape, color, size, Cell.nearest(ncx, ncy), ncx, ncy, width / w, height / h,
                area / ((double) w * h), fill, vbias);
    }

    /**
     * Template fit: for each shape, the side that gives the measured area, centred at the measured box centre
     * (searched over +-0.25 px), is rendered as expected coverage (4x4 samples per pixel, 1 for large regions) and
     * compared with the measured coverage (sum of squared differences); the best fit wins.
     */
    static Shape fitShape(double[] cov, int rx0, int ry0, int bw, int bh, double cx, double cy, double area) {
        double best = Double.MAX_VALUE;
        Shape bestShape = Shape.CIRCLE;
        for (Shape sh : Shape.values()) {
            double k = switch (sh) {
                case CIRCLE -> Math.PI / 4;
                case SQUARE -> 1.0;
                case DIAMOND -> 0.5;
                case TRIANGLE -> Math.sqrt(3) / 4;
            };
            double side = Math.sqrt(area / k);
            double hh = sh.halfHeight(side);
            // the window is the union of the template's box (+2 px) and the measured region; outside the region
            // the measured coverage is 0
            int x0 = Math.min(rx0, (int) Math.floor(cx - side / 2) - 2), x1 = Math.max(rx0 + bw - 1, (int) Math.ceil(cx + side / 2) + 2);
            int y0 = Math.min(ry0, (int) Math.floor(cy - hh) - 2), y1 = Math.max(ry0 + bh - 1, (int) Math.ceil(cy + hh) + 2);
            int ss = (x1 - x0) * (y1 - y0) > 4096 ? 1 : 4;
            for (double ox = -0.25; ox <= 0.25; ox += 0.25)
                for (double oy = -0.25; oy <= 0.25; oy += 0.25) {
                    double ccx = cx + ox, ccy = cy + oy, err = 0;
                    for (int y = y0; y <= y1 && err < best; y++)
                        for (int x = x0; x <= x1; x++) {
                            int rx = x - rx0, ry = y - ry0;
                            double meas = rx >= 0 && ry >= 0 && rx < bw && ry < bh ? cov[ry * bw + rx] : 0;
                            int in = 0;
                            for (int j = 0; j < ss; j++)
                                for (int q = 0; q < ss; q++)
                                    if (sh.contains(ccx, ccy, side, x + (q + 0.5) / ss, y + (j + 0.5) / ss)) in++;
                            double pred = in / (double) (ss * ss);
                            err += (pred - meas) * (pred - meas);
                        }
                    if (err < best) {
                        best = err;
                        bestShape = sh;
                    }
                }
        }
        return bestShape;
    }

    /** Scores an analysis against a prompt (see {@link Judgement}). */
    public static Judgement score(SceneAnalysis a, PromptSpec p) {
        List<ObjectSpec> want = p.objects();
        List<DetectedObject> got = a.objects();
        // best injective assignment prompt object -> detected object (or none), maximising matched attributes,
        // colour and shape weighted above size and cell
        int[] best = null;
        int bestScore = -1;
        for (int[] asg : assignments(want.size(), got.size())) {
            int s = 0;
            for (int i = 0; i < want.size(); i++) if (asg[i] >= 0) s += matchScore(want.get(i), got.get(asg[i]));
            if (s > bestScore) {
                bestScore = s;
                best = asg;
            }
        }
        boolean anyColor = false, anySize = false, anyCell = false;
        boolean colors = true, shapes = true, sizes = true, cells = true, binding = true;
        for (int i = 0; i < want.size(); i++) {
            ObjectSpec o = want.get(i);
            DetectedObject d = best[i] >= 0 ? got.get(best[i]) : null;
            if (o.color() != null) {
                anyColor = true;
                colors &= d != null && d.color() == o.color();
            }
            shapes &= d != null && d.shape() == o.shape();
            if (o.size() != null) {
                anySize = true;
                sizes &= d != null && d.size() == o.size();
            }
            if (o.cell() != null) {
                anyCell = true;
                cells &= d != null && d.cell() == o.cell();
            }
            binding &= d != null && d.shape() == o.shape() && (o.color() == null || d.color() == o.color());
        }
        // colours and shapes are judged as multisets (is every stated colour / shape there?), independent of binding
        List<ObjectColor> gotColors = new ArrayList<>();
        List<Shape> gotShapes = new ArrayList<>();
        for (DetectedObject d : got) {
            gotColors.add(d.color());
            gotShapes.add(d.shape());
        }
        colors = true;
        shapes = true;
        for (ObjectSpec o : want) {
            if (o.color() != null) colors &= gotColors.remove(o.color());
            shapes &= gotShapes.remove(o.shape());
        }
        Boolean relation = null;
        if (p.relation() != null) {
            relation = best[0] >= 0 && best[1] >= 0 && p.relation().holds(got.get(best[0]).cell(), got.get(best[1]).cell());
        }
        Boolean bindingV = want.size() == 2 && anyColor ? binding : null;
        Boolean bgV = p.background() == null ? null : a.background() == p.background();
        return new Judgement(a, got.size() == want.size(), anyColor ? colors : null, shapes,
                anySize ? sizes : null, anyCell ? cells : null, bindingV, relation, bgV);
    }

    private static int matchScore(ObjectSpec o, DetectedObject d) {
        int s = 1; // being assigned at all beats being missing
        if (o.color() == null || o.color() == d.color()) s += 10;
        if (o.shape() == d.shape()) s += 10;
        if (o.color() != null && o.color() == d.color() && o.shape() == d.shape()) s += 5;
        if (o.size() == null || o.size() == d.size()) s += 2;
        if (o.cell() == null || o.cell() == d.cell()) s += 2;
        return s;
    }

    /** All injective maps from {@code k} prompt objects to {@code m} detections, allowing "missing" (-1). */
    private static List<int[]> assignments(int k, int m) {
        List<int[]> out = new ArrayList<>();
        if (k == 1) {
            out.add(new int[] {-1});
            for (int i = 0; i < m; i++) out.add(new int[] {i});
        } else {
            for (int i = -1; i < m; i++)
                for (int j = -1; j < m; j++)
                    if (i < 0 || i != j) out.add(new int[] {i, j});
        }
        return out;
    }

    private static double[] borderMedian(RgbImage img) {
        int w = img.width, h = img.height;
        List<int[]> px = new ArrayList<>();
        for (int x = 0; x < w; x++) {
            px.add(img.rgb(x, 0));
            if (h > 1) px.add(img.rgb(x, h - 1));
        }
        for (int y = 1; y < h - 1; y++) {
            px.add(img.rgb(0, y));
            if (w > 1) px.add(img.rgb(w - 1, y));
        }
        double[] m = new double[3];
        int[] vals = new int[px.size()];
        for (int ch = 0; ch < 3; ch++) {
            for (int i = 0; i < vals.length; i++) vals[i] = px.get(i)[ch];
            java.util.Arrays.sort(vals);
            m[ch] = vals[vals.length / 2];
        }
        return m;
    }

    private static Background nearestBackground(double[] c) {
        Background best = null;
        double bd = Double.MAX_VALUE;
        for (Background bg : Background.values()) {
            int[] r = bg.rgb();
            double d = 0;
            for (int ch = 0; ch < 3; ch++) d += (c[ch] - r[ch]) * (c[ch] - r[ch]);
            if (d < bd) {
                bd = d;
                best = bg;
            }
        }
        return best;
    }

    private static double dot(double[] a, double[] b) {
        return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    }
}
