package io.unclip.cli.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The embedded cascade's per-stage means next to the PyTorch eager reference's, joined on the stage
 * name: Java wall time, time inside ONNX Runtime, their ratio, PyTorch's wall time and PyTorch / Java
 * (above 1: the engine is faster).
 */
public final class SideBySide {
    /** One stage of the embedded cascade, mean per run. */
    public record JavaStage(String stage, int steps, double wallMs, double ortMs) {
    }

    /** One row; torch fields are NaN (and torchSteps -1) when the reference did not run that stage. */
    public record Row(String stage, int steps, double javaMs, double ortMs, int torchSteps, double torchMs) {
        public double wallOverOrt() {
            return ortMs == 0 ? Double.NaN : javaMs / ortMs;
        }

        public double torchOverJava() {
            return javaMs == 0 ? Double.NaN : torchMs / javaMs;
        }

        /** Whether both sides ran the same number of steps. */
        public boolean sameWork() {
            return torchSteps == steps;
        }
    }

    private final List<Row> rows;
    private final Row total;

    public SideBySide(List<JavaStage> java, TorchReport torch) {
        List<Row> r = new ArrayList<>();
        double javaSum = 0;
        double ortSum = 0;
        double torchSum = 0;
        boolean allTorch = true;
        for (JavaStage j : java) {
            TorchReport.Stage t = torch.stage(j.stage());
            r.add(new Row(j.stage(), j.steps(), j.wallMs(), j.ortMs(), t == null ? -1 : t.steps(),
                    t == null ? Double.NaN : t.wallMs()));
            javaSum += j.wallMs();
            ortSum += j.ortMs();
            if (t == null) {
                allTorch = false;
            } else {
                torchSum += t.wallMs();
            }
        }
        this.rows = List.copyOf(r);
        this.total = new Row("all stages", -1, javaSum, ortSum, -1, allTorch ? torchSum : Double.NaN);
    }

    public List<Row> rows() {
        return rows;
    }

    public Row total() {
        return total;
    }

    /** Stages whose step counts differ between the two sides (a broken comparison), by name. */
    public List<String> mismatched() {
        return rows.stream().filter(r -> !r.sameWork()).map(Row::stage).toList();
    }

    /** The table, header first. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "%-16s %6s %11s %11s %10s %11s %11s", "stage", "steps", "java ms", "onnx ms",
                "wall/onnx", "torch ms", "torch/java"));
        for (Row r : rows) {
            out.add(line(r, Integer.toString(r.steps())));
        }
        out.add(line(total, ""));
        return out;
    }

    private static String line(Row r, String steps) {
        return String.format(Locale.ROOT, "%-16s %6s %11.2f %11.2f %10.3f %11.2f %11.2f", r.stage(), steps, r.javaMs(),
                r.ortMs(), r.wallOverOrt(), r.torchMs(), r.torchOverJava());
    }

    /** A row as a JSON-friendly map (NaN becomes null). */
    public static Map<String, Object> toMap(Row r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", r.stage());
        if (r.steps() >= 0) {
            m.put("steps", r.steps());
        }
        m.put("java_wall_ms", finite(r.javaMs()));
        m.put("onnx_ms", finite(r.ortMs()));
        m.put("wall_over_onnx", finite(r.wallOverOrt()));
        m.put("torch_ms", finite(r.torchMs()));
        m.put("torch_over_java", finite(r.torchOverJava()));
        return m;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? Math.round(v * 1000) / 1000.0 : null;
    }
}
