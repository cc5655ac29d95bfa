package io.unclip.cli;

import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.CascadeListener;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.StageTimings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code unclip bench}: runs the embedded cascade K times and reports, per stage, the wall time,
 * the time spent inside ONNX Runtime and their ratio: how much the sampler, guidance, noise and
 * tensor plumbing add on top of the model itself.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time the embedded cascade: per stage, wall time, time inside ONNX Runtime and their ratio.",
                "Warm-up runs are not counted. Every run uses the same seed, so every run does the same work."})
final class BenchCommand extends BaseCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "PROMPT",
            defaultValue = "a small red circle at the top left", description = "Prompt. Default: ${DEFAULT-VALUE}.")
    String prompt;

    @Option(names = {"-k", "--runs"}, paramLabel = "K", defaultValue = "5",
            description = "Measured runs. Default: ${DEFAULT-VALUE}.")
    int runs;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "1",
            description = "Runs before measuring (JIT, ONNX Runtime arenas). Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = {"-n", "--num-images"}, paramLabel = "N", defaultValue = "1",
            description = "Images per run (one batch). Default: ${DEFAULT-VALUE}.")
    int numImages;

    @Mixin
    PriorOptions prior;

    @Mixin
    ImageOptions image;

    /** Sums of one stage's timings over the measured runs. */
    private static final class StageTotals {
        final String stage;
        long wall;
        long ort;
        long steps;
        int runs;

        StageTotals(String stage) {
            this.stage = stage;
        }
    }

    @Override
    int run() {
        if (runs < 1 || runs > 1000) {
            throw CliException.badInput("--runs: must be between 1 and 1000, got " + runs);
        }
        if (warmup < 0 || warmup > 100) {
            throw CliException.badInput("--warmup: must be between 0 and 100, got " + warmup);
        }
        StageOverrides o = image.overrides(prior.overrides(StageOverrides.none()));
        Long seed = image.seed();
        GenerationRequest request = GenerationRequest.of(prompt).withNumImages(numImages)
                .withSeed(seed == null ? 0L : seed).withSize(image.size).withOverrides(o)
                .withPriorCandidates(prior.candidates);
        request.validate();
        Map<String, StageTotals> totals = new LinkedHashMap<>();
        List<Long> runWall = new ArrayList<>();
        try (Cascade cascade = openCascade()) {
            for (int i = 0; i < warmup + runs; i++) {
                long t0 = System.nanoTime();
                GenerationResult r = cascade.generate(request, CascadeListener.NONE, null);
                long wall = System.nanoTime() - t0;
                boolean measured = i >= warmup;
                output.info(String.format(Locale.ROOT, "%s %d: %.1f ms", measured ? "run" : "warm-up",
                        measured ? i - warmup + 1 : i + 1, wall / 1e6));
                if (!measured) {
                    continue;
                }
                runWall.add(wall);
                for (StageTimings t : r.timings()) {
                    StageTotals s = totals.computeIfAbsent(t.stage(), StageTotals::new);
                    s.wall += t.wallNanos();
                    s.ort += t.ortNanos();
                    s.steps += t.steps();
                    s.runs++;
                }
            }
        }
        report(totals, runWall);
        return ExitCodes.OK;
    }

    private void report(Map<String, StageTotals> totals, List<Long> runWall) {
        output.info(String.format(Locale.ROOT, "%-16s %7s %12s %12s %10s", "stage", "steps", "wall ms", "onnx ms",
                "wall/onnx"));
        long wallSum = 0;
        long ortSum = 0;
        for (StageTotals s : totals.values()) {
            double wall = s.wall / 1e6 / s.runs;
            double ort = s.ort / 1e6 / s.runs;
            wallSum += s.wall;
            ortSum += s.ort;
            output.info(String.format(Locale.ROOT, "%-16s %7d %12.2f %12.2f %10.3f", s.stage, s.steps / s.runs, wall,
                    ort, ratio(s.wall, s.ort)));
            output.event("bench_stage", Output.map("stage", s.stage, "steps", s.steps / s.runs, "wall_ms", wall,
                    "onnx_ms", ort, "ratio", ratio(s.wall, s.ort)));
        }
        double perRun = runWall.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
        int n = runWall.size();
        output.info(String.format(Locale.ROOT, "%-16s %7s %12.2f %12.2f %10.3f", "all stages", "", wallSum / 1e6 / n,
                ortSum / 1e6 / n, ratio(wallSum, ortSum)));
        output.info(String.format(Locale.ROOT, "end to end: %.2f ms per run (mean of %d; includes bundle-level"
                + " work between stages)", perRun, n));
        output.event("bench_total", Output.map("runs", n, "wall_ms", wallSum / 1e6 / n, "onnx_ms", ortSum / 1e6 / n,
                "ratio", ratio(wallSum, ortSum), "end_to_end_ms", perRun));
    }

    private static double ratio(long wall, long ort) {
        return ort == 0 ? Double.NaN : (double) wall / ort;
    }
}
