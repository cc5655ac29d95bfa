package io.unclip.cli;

import io.unclip.cli.bench.SideBySide;
import io.unclip.cli.bench.TorchReference;
import io.unclip.cli.bench.TorchReport;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.CascadeListener;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.StageTimings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * tensor plumbing add on top of the model itself. With {@code --torch}, then the same cascade in
 * PyTorch eager on the same weights (models/training/torch_reference.py) for a side-by-side.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time the embedded cascade: per stage, wall time, time inside ONNX Runtime and their ratio.",
                "Warm-up runs are not counted. Every run uses the same seed, so every run does the same work.",
                "--torch adds a side-by-side against a PyTorch eager reference on the same weights and steps."})
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

    @Option(names = "--torch", description = "Then run the PyTorch eager reference (models/training/torch_reference.py)"
            + " with the same stages, steps, batch shapes and thread count, and print both side by side.")
    boolean torch;

    @Option(names = "--python", paramLabel = "PATH", description = "Python with torch and onnx for --torch."
            + " Default: /usr/bin/python3 (Debian's python3-torch, python3-onnx).")
    Path python;

    @Option(names = "--torch-script", paramLabel = "FILE", hidden = true,
            description = "The reference script (default: " + TorchReference.SCRIPT + " of this checkout).")
    Path torchScript;

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
                .withSeed(seed == null ? 0L : seed).withSize(image.size).withOverrides(o);
        request.validate();
        Map<String, StageTotals> totals = new LinkedHashMap<>();
        List<Long> runWall = new ArrayList<>();
        Path bundle = bundleDir(null);
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
        List<SideBySide.JavaStage> java = report(totals, runWall);
        if (torch) {
            sideBySide(java, bundle);
        }
        return ExitCodes.OK;
    }

    /** The reference on the same work; a machine without python/torch gets one line and no failure. */
    private void sideBySide(List<SideBySide.JavaStage> java, Path bundle) {
        TorchReference ref = new TorchReference(pythonPath(), script());
        var why = ref.unavailable();
        if (why.isPresent()) {
            output.info("side-by-side with PyTorch skipped: " + why.get());
            output.event("bench_torch_skipped", Output.map("reason", why.get()));
            return;
        }
        output.info("running the PyTorch eager reference (" + ref.python() + " " + ref.script() + ", "
                + threads() + " threads) ...");
        TorchReport report;
        try {
            report = ref.run(referenceArgs(bundle), line -> {
                if (!output.json()) {
                    spec.commandLine().getErr().println("  " + line);
                    spec.commandLine().getErr().flush();
                }
            });
        } catch (IOException e) {
            throw new CliException(ExitCodes.FAILED, e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCodes.FAILED, "interrupted while the PyTorch reference ran", e);
        }
        SideBySide table = new SideBySide(java, report);
        if (!table.mismatched().isEmpty()) {
            throw new CliException(ExitCodes.FAILED, "the PyTorch reference ran different steps for "
                    + String.join(", ", table.mismatched()) + "; the comparison would be meaningless");
        }
        output.info(String.format(Locale.ROOT, "side by side with PyTorch eager (torch %s, %d threads, %d runs, same"
                + " stages, steps and batch shapes; self-check against reference.json: %s):", report.torchVersion(),
                report.threads(), report.runs(), report.selfCheckPassed() ? "ok" : "FAILED"));
        table.lines().forEach(output::info);
        for (SideBySide.Row r : table.rows()) {
            output.event("bench_side_by_side", SideBySide.toMap(r));
        }
        Map<String, Object> total = SideBySide.toMap(table.total());
        total.remove("stage");
        total.put("torch_version", report.torchVersion());
        total.put("torch_threads", report.threads());
        total.put("torch_runs", report.runs());
        total.put("self_check", report.checks().stream().map(c -> Output.map("stage", c.stage(), "max_abs_error",
                c.maxAbsError(), "ok", c.ok())).toList());
        output.event("bench_torch", total);
    }

    /** --python: a path (relative to the working directory), or a bare name looked up on PATH. */
    private Path pythonPath() {
        if (python == null) {
            return TorchReference.DEFAULT_PYTHON;
        }
        if (python.getNameCount() == 1 && !python.isAbsolute()) {
            String path = environment().env().getOrDefault("PATH", "");
            for (String dir : path.split(java.io.File.pathSeparator)) {
                Path candidate = Path.of(dir.isEmpty() ? "." : dir).resolve(python);
                if (!dir.isEmpty() && Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        return environment().workDir().resolve(python);
    }

    /** models/training/torch_reference.py of the working directory's checkout, else of the one the CLI was built in. */
    private Path script() {
        if (torchScript != null) {
            return environment().workDir().resolve(torchScript);
        }
        Path here = environment().workDir().resolve(TorchReference.SCRIPT);
        if (Files.isRegularFile(here)) {
            return here;
        }
        return environment().installRoot().map(r -> r.resolve(TorchReference.SCRIPT)).orElse(here);
    }

    /** ONNX Runtime's intra-op threads: --threads, else its default (one per core). */
    int threads() {
        return common.threads > 0 ? common.threads : Runtime.getRuntime().availableProcessors();
    }

    /** The reference's flags for the same work as this run (unset options: both sides read the manifests). */
    List<String> referenceArgs(Path bundle) {
        if (!prior.referenceCanFollow() || !image.sampling.referenceCanFollow()) {
            throw CliException.badInput("--torch: the PyTorch reference takes steps, guidance, --sampler and --eta;"
                    + " leave out the respacing, per-stage sampler and eta options to compare with it");
        }
        List<String> a = new ArrayList<>(List.of("--bundle", bundle.toString(), "--prompt", prompt,
                "--runs", Integer.toString(runs), "--warmup", Integer.toString(warmup),
                "--num-images", Integer.toString(numImages), "--threads", Integer.toString(threads())));
        add(a, "--candidates", prior.candidates);
        add(a, "--size", image.size);
        add(a, "--prior-steps", prior.priorSteps);
        add(a, "--prior-guidance", prior.priorGuidance);
        SamplerOptions s = image.sampling;
        add(a, "--decoder-steps", s.decoderSteps);
        add(a, "--decoder-guidance", s.decoderGuidance);
        add(a, "--sampler", s.decoderSampler == null ? null : s.decoderSampler.trim().toLowerCase(Locale.ROOT));
        add(a, "--eta", s.decoderEta);
        add(a, "--sr-steps", s.srSteps);
        return a;
    }

    private static void add(List<String> args, String flag, Object value) {
        if (value != null) {
            args.add(flag);
            args.add(value.toString());
        }
    }

    private List<SideBySide.JavaStage> report(Map<String, StageTotals> totals, List<Long> runWall) {
        output.info(String.format(Locale.ROOT, "%-16s %7s %12s %12s %10s", "stage", "steps", "wall ms", "onnx ms",
                "wall/onnx"));
        long wallSum = 0;
        long ortSum = 0;
        List<SideBySide.JavaStage> java = new ArrayList<>();
        for (StageTotals s : totals.values()) {
            double wall = s.wall / 1e6 / s.runs;
            double ort = s.ort / 1e6 / s.runs;
            wallSum += s.wall;
            ortSum += s.ort;
            output.info(String.format(Locale.ROOT, "%-16s %7d %12.2f %12.2f %10.3f", s.stage, s.steps / s.runs, wall,
                    ort, ratio(s.wall, s.ort)));
            output.event("bench_stage", Output.map("stage", s.stage, "steps", s.steps / s.runs, "wall_ms", wall,
                    "onnx_ms", ort, "ratio", ratio(s.wall, s.ort)));
            java.add(new SideBySide.JavaStage(s.stage, (int) (s.steps / s.runs), wall, ort));
        }
        double perRun = runWall.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
        int n = runWall.size();
        output.info(String.format(Locale.ROOT, "%-16s %7s %12.2f %12.2f %10.3f", "all stages", "", wallSum / 1e6 / n,
                ortSum / 1e6 / n, ratio(wallSum, ortSum)));
        output.info(String.format(Locale.ROOT, "end to end: %.2f ms per run (mean of %d; includes bundle-level"
                + " work between stages)", perRun, n));
        output.event("bench_total", Output.map("runs", n, "wall_ms", wallSum / 1e6 / n, "onnx_ms", ortSum / 1e6 / n,
                "ratio", ratio(wallSum, ortSum), "end_to_end_ms", perRun));
        return java;
    }

    private static double ratio(long wall, long ort) {
        return ort == 0 ? Double.NaN : (double) wall / ort;
    }
}
