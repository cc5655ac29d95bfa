// Checks that ONNX Runtime (Java) reproduces the PyTorch outputs recorded by export_onnx.py / export_extra.py in
// <stage>/reference.json (the same check as a JUnit test: models/src/test/java/io/unclip/models/ShippedBundleTest).
//   java -cp ~/.m2/repository/com/microsoft/onnxruntime/onnxruntime/1.23.2/onnxruntime-1.23.2.jar \
//        models/training/VerifyReference.java BUNDLE/upsampler_128 BUNDLE/captioner ...
// Input patterns: value[i0..ik] = ((sum_j a_j * i_j) mod 17) / 8 - 1 (exact in float32). Minimal JSON reading
// (the files are written by export_extra.py with a known layout). Exit status 1 on any mismatch.
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class VerifyReference {
    static long[] longs(String s) {
        String t = s.replaceAll("[\\[\\]\\s]", "");
        if (t.isEmpty()) return new long[0];
        String[] p = t.split(",");
        long[] r = new long[p.length];
        for (int i = 0; i < p.length; i++) r[i] = Long.parseLong(p[i]);
        return r;
    }

    static double[] doubles(String s) {
        String[] p = s.replaceAll("[\\[\\]\\s]", "").split(",");
        double[] r = new double[p.length];
        for (int i = 0; i < p.length; i++) r[i] = Double.parseDouble(p[i]);
        return r;
    }

    static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": (\\[[^\\]]*\\]|[-0-9.eE+]+)").matcher(json);
        if (!m.find()) throw new IllegalStateException("no " + key);
        return m.group(1);
    }

    public static void main(String[] args) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        boolean ok = true;
        for (String dir : args) {
            String ref = Files.readString(Path.of(dir, "reference.json"));
            String man = Files.readString(Path.of(dir, "manifest.json"));
            String onnx = field(man.replace("\"onnx\": \"", "\"onnx\": [").replaceFirst("\\.onnx\"", ".onnx]"), "onnx")
                    .replaceAll("[\\[\\]]", "");
            Map<String, OnnxTensor> in = new HashMap<>();
            Matcher im = Pattern.compile("\"(\\w+)\": \\{\"shape\": (\\[[^\\]]*\\]), \"(input_pattern|values)\": (\\[[^\\]]*\\])\\}")
                    .matcher(ref.substring(0, ref.indexOf("\"output\"")));
            while (im.find()) {
                long[] shape = longs(im.group(2));
                long[] vals = longs(im.group(4));
                int n = 1;
                for (long d : shape) n *= (int) d;
                if (im.group(3).equals("values")) {
                    in.put(im.group(1), OnnxTensor.createTensor(env, LongBuffer.wrap(vals), shape));
                } else {
                    float[] f = new float[n];
                    int[] idx = new int[shape.length];
                    for (int k = 0; k < n; k++) {
                        long acc = 0;
                        for (int j = 0; j < shape.length; j++) acc += vals[j] * idx[j];
                        f[k] = (float) (acc % 17) / 8.0f - 1.0f;
                        for (int j = shape.length - 1; j >= 0; j--) {
                            if (++idx[j] < shape[j]) break;
                            idx[j] = 0;
                        }
                    }
                    in.put(im.group(1), OnnxTensor.createTensor(env, FloatBuffer.wrap(f), shape));
                }
            }
            Matcher om = Pattern.compile("\"output\": \"(\\w+)\"").matcher(ref);
            om.find();
            String outName = om.group(1);
            long[] oshape = longs(field(ref, "output_shape"));
            try (OrtSession s = env.createSession(Path.of(dir, onnx).toString(), new OrtSession.SessionOptions());
                 OrtSession.Result r = s.run(in)) {
                OnnxTensor t = (OnnxTensor) r.get(outName).get();
                FloatBuffer fb = t.getFloatBuffer();
                float[] y = new float[fb.remaining()];
                fb.get(y);
                double maxErr = 0;
                List<String> notes = new ArrayList<>();
                if (ref.contains("\"output_values\"")) {
                    double[] e = doubles(field(ref, "output_values"));
                    for (int i = 0; i < e.length; i++) maxErr = Math.max(maxErr, Math.abs(e[i] - y[i]));
                    notes.add(e.length + " values");
                } else {
                    int H = (int) oshape[2], W = (int) oshape[3];
                    Matcher sm = Pattern.compile("\\{\"c\": (\\d+), \"y\": \\[(\\d+), (\\d+)\\], \"x\": \\[(\\d+), (\\d+)\\], \"values\": (\\[[^\\]]*\\])\\}").matcher(ref);
                    while (sm.find()) {
                        int c = Integer.parseInt(sm.group(1)), y0 = Integer.parseInt(sm.group(2)), y1 = Integer.parseInt(sm.group(3));
                        int x0 = Integer.parseInt(sm.group(4)), x1 = Integer.parseInt(sm.group(5));
                        double[] e = doubles(sm.group(6));
                        int k = 0;
                        for (int yy = y0; yy < y1; yy++)
                            for (int xx = x0; xx < x1; xx++)
                                maxErr = Math.max(maxErr, Math.abs(e[k++] - y[(c * H + yy) * W + xx]));
                        notes.add("slice c" + c);
                    }
                    double sum = 0, abs = 0;
                    for (float v : y) { sum += v; abs += Math.abs(v); }
                    double es = Double.parseDouble(field(ref, "output_sum")), ea = Double.parseDouble(field(ref, "output_abs_sum"));
                    double rel = Math.abs(abs - ea) / Math.max(1e-9, ea);
                    notes.add(String.format("sum %.6f vs %.6f, abs_sum rel err %.2e", sum, es, rel));
                    if (rel > 1e-5) ok = false;
                }
                boolean pass = maxErr <= 1e-4;
                ok &= pass;
                System.out.printf("%s: %s max abs err %.3e (%s)%n", dir, pass ? "OK" : "MISMATCH", maxErr, String.join("; ", notes));
            }
        }
        System.exit(ok ? 0 : 1);
    }
}
