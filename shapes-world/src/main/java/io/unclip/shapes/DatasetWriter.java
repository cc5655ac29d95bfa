package io.unclip.shapes;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;

/**
 * Writes scenes {@code 0..count-1} of a dataset seed:
 * <ul>
 *   <li>{@code captions.jsonl}: one line per scene, in index order:
 *       {@code {"id":0,"short":"...","descriptive":"...","relational":"..." or null,"metadata":{...}}}</li>
 *   <li>PNG: {@code png<size>/<id, 7 digits>.png}</li>
 *   <li>NPY: {@code images_<size>.npy}, uint8 {@code (count, size, size, 3)}, row {@code id} is scene {@code id}</li>
 *   <li>{@code dataset.json}: seed, count, sizes, formats, generator description.</li>
 * </ul>
 * Rendering runs on {@code threads} worker threads in chunks; output is identical for any thread count.
 */
public final class DatasetWriter {
    public enum Format { PNG, NPY }

    private final Path out;
    private final long seed;
    private final int count;
    private final int[] sizes;
    private final boolean png, npy;
    private final int threads;

    public DatasetWriter(Path out, long seed, int count, int[] sizes, List<Format> formats, int threads) {
        if (count <= 0) throw new IllegalArgumentException("count must be positive");
        if (sizes.length == 0) throw new IllegalArgumentException("no sizes");
        this.out = out;
        this.seed = seed;
        this.count = count;
        this.sizes = sizes.clone();
        this.png = formats.contains(Format.PNG);
        this.npy = formats.contains(Format.NPY);
        this.threads = Math.max(1, threads);
    }

    /** Caption/metadata line for one scene. */
    public static String jsonLine(long id, Scene s) {
        String rel = Captions.relational(s);
        return "{\"id\":" + id + ",\"short\":\"" + Captions.shortCaption(s) + "\",\"descriptive\":\""
                + Captions.descriptive(s) + "\",\"relational\":" + (rel == null ? "null" : "\"" + rel + "\"")
                + ",\"metadata\":" + s.metadataJson() + "}";
    }

    public void write(LongConsumer progress) throws IOException, InterruptedException {
        Files.createDirectories(out);
        if (png) for (int s : sizes) Files.createDirectories(out.resolve("png" + s));
        NpyWriter[] npys = new NpyWriter[sizes.length];
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "shapes-render");
            t.setDaemon(true);
            return t;
        });
        try (BufferedWriter jsonl = Files.newBufferedWriter(out.resolve("captions.jsonl"), StandardCharsets.UTF_8)) {
            if (npy) for (int k = 0; k < sizes.length; k++)
                npys[k] = new NpyWriter(out.resolve("images_" + sizes[k] + ".npy"), count, sizes[k]);
            final int chunk = 64;
            for (int base = 0; base < count; base += chunk * threads * 4) {
                List<Future<?>> fs = new ArrayList<>();
                int end = (int) Math.min(count, (long) base + (long) chunk * threads * 4);
                for (int c0 = base; c0 < end; c0 += chunk) {
                    final int from = c0, to = Math.min(end, c0 + chunk);
                    fs.add(pool.submit(() -> {
                        for (int i = from; i < to; i++) renderOne(i, npys);
                        return null;
                    }));
                }
                for (int i = base; i < end; i++) {
                    jsonl.write(jsonLine(i, SceneSampler.sample(seed, i)));
                    jsonl.write('\n');
                }
                for (Future<?> f : fs) {
                    try {
                        f.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw new IOException("rendering failed", e.getCause());
                    }
                }
                if (progress != null) progress.accept(end);
            }
        } finally {
            pool.shutdownNow();
            for (NpyWriter w : npys) if (w != null) w.close();
        }
        Files.writeString(out.resolve("dataset.json"), describe(), StandardCharsets.UTF_8);
    }

    private void renderOne(int i, NpyWriter[] npys) throws IOException {
        Scene s = SceneSampler.sample(seed, i);
        RgbImage[] imgs = Renderer.render(s, sizes);
        for (int k = 0; k < sizes.length; k++) {
            if (npy) npys[k].write(i, imgs[k]);
            if (png) imgs[k].writePng(out.resolve("png" + sizes[k]).resolve(String.format("%07d.png", i)));
        }
    }

    private String describe() {
        StringBuilder f = new StringBuilder();
        if (png) f.append("\"png\"");
        if (npy) f.append(png ? "," : "").append("\"npy\"");
        return "{\n  \"generator\": \"shapes-world v1 (io.unclip:shapes-world)\",\n"
                + "  \"prng\": \"SplitMix64; scene state = mix64(mix64(seed) + 0x9E3779B97F4A7C15 * (index + 1))\",\n"
                + "  \"seed\": " + seed + ",\n  \"count\": " + count + ",\n  \"sizes\": " + Arrays.toString(sizes)
                + ",\n  \"formats\": [" + f + "],\n  \"npy_layout\": \"uint8 (count, size, size, 3) RGB\",\n"
                + "  \"captions\": \"captions.jsonl\"\n}\n";
    }
}
