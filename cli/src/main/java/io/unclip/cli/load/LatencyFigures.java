package io.unclip.cli.load;

import java.util.Arrays;
import java.util.List;

/** Throughput and latency percentiles of a set of {@link LoadRun.Sample}s, in milliseconds. */
public record LatencyFigures(int requests, int completed, int failed, int refused, int images, double wallSeconds,
                             double throughputImagesPerSecond, double p50Ms, double p95Ms, double p99Ms,
                             double firstPreviewP50Ms, double firstPreviewP95Ms) {

    /**
     * @param timeScale figures are divided by it (a cost model's dilation: back to the curve's time)
     */
    public static LatencyFigures of(List<LoadRun.Sample> samples, double timeScale) {
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        int completed = 0;
        int refused = 0;
        int images = 0;
        for (LoadRun.Sample s : samples) {
            first = Math.min(first, s.submitted());
            last = Math.max(last, s.finished());
            if (s.ok()) {
                completed++;
                images += s.images();
            } else if (s.refused()) {
                refused++;
            }
        }
        double wall = samples.isEmpty() ? 0 : (last - first) / 1e9 / timeScale;
        long[] latencies = samples.stream().filter(LoadRun.Sample::ok).mapToLong(LoadRun.Sample::latency).toArray();
        long[] previews = samples.stream().filter(LoadRun.Sample::ok).mapToLong(LoadRun.Sample::timeToFirstPreview)
                .filter(t -> t >= 0).toArray();
        return new LatencyFigures(samples.size(), completed, samples.size() - completed, refused, images, wall,
                wall > 0 ? images / wall : 0, ms(percentile(latencies, 50), timeScale),
                ms(percentile(latencies, 95), timeScale), ms(percentile(latencies, 99), timeScale),
                ms(percentile(previews, 50), timeScale), ms(percentile(previews, 95), timeScale));
    }

    /** Nearest-rank percentile; NaN for no values. */
    public static double percentile(long[] values, double p) {
        if (values.length == 0) {
            return Double.NaN;
        }
        long[] v = values.clone();
        Arrays.sort(v);
        int rank = (int) Math.ceil(p / 100.0 * v.length);
        return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
    }

    private static double ms(double nanos, double timeScale) {
        return nanos / 1e6 / timeScale;
    }
}
