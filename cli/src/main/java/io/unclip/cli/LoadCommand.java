package io.unclip.cli;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.unclip.cli.load.FifoBaseline;
import io.unclip.cli.load.GatewayTarget;
import io.unclip.cli.load.StackMetrics;
import io.unclip.cli.load.IdealSpeedup;
import io.unclip.cli.load.LatencyFigures;
import io.unclip.cli.load.LoadRun;
import io.unclip.deploy.LocalStack;
import io.unclip.deploy.StackProcess;
import io.unclip.deploy.StackSecurity;
import io.unclip.deploy.StackStatus;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.onnx.CostModel;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.CascadeListener;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.schedule.SchedulerConfig;
import io.unclip.engine.schedule.SchedulerObserver;
import io.unclip.engine.schedule.SchedulerStats;
import io.unclip.engine.schedule.Batching;
import io.unclip.engine.schedule.QueueFullException;
import io.unclip.engine.stage.Scheduling;
import io.unclip.engine.stage.StageProgress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code unclip load}: many requests at once against the embedded cascade, to see what the step
 * schedulers make of them: throughput, latency percentiles, time to first preview, rows per
 * model call; with {@code --baseline} the same requests one at a time for the ratio; with
 * {@code --cost-curve} the models replaced by a measured accelerator's cost per call.
 */
@Command(name = "load", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Load-test the embedded cascade (or a gateway, --target HOST:PORT): a closed loop (--concurrency N requests always in flight) or"
                + " an open loop (--rate R requests a second, Poisson arrivals).",
                "Request i gets seed S+i and prompt i of the mix (--prompts FILE.jsonl as for generate --prompts;"
                        + " default: a built-in mix of one- and two-object prompts).",
                "Prints throughput (images/s), end-to-end latency p50/p95/p99, time to first preview and the"
                        + " mean rows per model call of each diffusion stage; --json prints them as one object.",
                "--baseline first runs the same requests one at a time, and prints the speedup and the latencies"
                        + " one-at-a-time serving gives for the same arrivals.",
                "--cost-curve FILE --cost-runtime NAME answers every model call with outputs of the real shapes"
                        + " after the time the curve gives for its batch (e.g. ../shared/measurements/"
                        + "h200-cost-curves.jsonl), and adds the speedup a perfect scheduler would get."})
final class LoadCommand extends BaseCommand {
    /** The default mix: the bundle's kind of scene, one and two objects. */
    static final List<String> BUILT_IN_PROMPTS = List.of(
            "a small red circle at the top left",
            "a blue square",
            "a large green triangle at the bottom right",
            "a red square and a blue circle",
            "a large yellow circle on a white background",
            "a small blue triangle above a large red square",
            "a green circle",
            "a yellow square to the left of a green triangle");

    private static final SchedulerStats NO_STATS = new SchedulerStats(0, 0, 0, 0, 0, 0);

    @Option(names = "--requests", paramLabel = "M", defaultValue = "32",
            description = "Requests measured. Default: ${DEFAULT-VALUE}.")
    int requests;

    @Option(names = {"-c", "--concurrency"}, paramLabel = "N",
            description = "Closed loop: N requests in flight, each client sending its next as its last ends."
                    + " Default: 8.")
    Integer concurrency;

    @Option(names = "--rate", paramLabel = "R",
            description = "Open loop instead: R requests a second, Poisson arrivals (seeded by --seed).")
    Double rate;

    @Option(names = {"-n", "--num-images"}, paramLabel = "K", defaultValue = "1",
            description = "Images per request. Default: ${DEFAULT-VALUE}.")
    int numImages;

    @Option(names = "--size", paramLabel = "PX", description = "Output size (default: the bundle's largest).")
    Integer size;

    @Option(names = "--seed", paramLabel = "S", converter = UnsignedSeed.class, defaultValue = "0",
            description = "Request i gets seed S+i. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--prompts", paramLabel = "FILE.jsonl",
            description = "Prompts, one JSON object a line (\"prompt\"; \"seed\" overrides S+i); request i gets"
                    + " line i mod the file's lines.")
    Path prompts;

    @Option(names = "--out-dir", paramLabel = "DIR", description = "Save request i's image as DIR/<i>.png"
            + " (DIR/<i>-<k>.png with -n > 1).")
    Path outDir;

    @Option(names = "--baseline", description = "First run the same requests one at a time, for the ratio.")
    boolean baseline;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "2",
            description = "Requests run (and not counted) before measuring. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--preview-interval", paramLabel = "K", defaultValue = "5",
            description = "A preview every K steps of the image stages, for the time to first preview; 0 = none."
                    + " Default: ${DEFAULT-VALUE}.")
    int previewInterval;

    @Option(names = "--max-rows", paramLabel = "ROWS", defaultValue = "64",
            description = "Most rows in one model call of a diffusion stage. Default: ${DEFAULT-VALUE}.")
    int maxRows;

    @Option(names = "--max-active-rows", paramLabel = "ROWS", defaultValue = "256",
            description = "Most rows of a diffusion stage's requests sampling at once (in calls of --max-rows);"
                    + " more wait. Default: ${DEFAULT-VALUE}.")
    int maxActiveRows;

    @Option(names = "--admission-wait-ms", paramLabel = "MS", defaultValue = "0",
            description = "How long a stage waits for more requests before a step with room. Default:"
                    + " ${DEFAULT-VALUE}.")
    long admissionWaitMs;

    @Option(names = "--max-queued", paramLabel = "N", defaultValue = "" + 256,
            description = "Requests a stage queues before refusing more. Default: ${DEFAULT-VALUE}.")
    int maxQueued;

    @Option(names = "--cost-curve", paramLabel = "FILE", description = "Replace the models by this cost curve"
            + " (JSONL: runtime, stage, batch, ms_per_call).")
    Path costCurve;

    @Option(names = "--cost-runtime", paramLabel = "NAME", defaultValue = "torch_eager_fp32",
            description = "Which runtime of the curve file. Default: ${DEFAULT-VALUE}.")
    String costRuntime;

    @Option(names = "--cost-dilation", paramLabel = "X", defaultValue = "1",
            description = "Stretch every cost X times (figures are reported back in the curve's time), so that"
                    + " the Java work between calls weighs less. Default: ${DEFAULT-VALUE}.")
    double costDilation;

    @Option(names = "--target", paramLabel = "HOST:PORT",
            description = "Send the requests to this gateway (gRPC ImageService.Generate) instead of the embedded"
                    + " cascade; rows per call are read from the local stack's services when it runs.")
    String target;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "With --target: the local stack whose services' rows per call to report (default: as for"
                    + " unclip stack).")
    Path stateDir;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "5",
            description = "With --target: how long to wait for a connection. Default: ${DEFAULT-VALUE}.")
    int connectTimeout;

    @Mixin
    GrpcClientOptions security;

    @Mixin
    PriorOptions prior;

    @Mixin
    SamplerOptions sampling;

    @Override
    int run() throws Exception {
        checkOptions();
        List<GenerationRequest> all = requests();
        if (target != null) {
            String address = StreamCommand.checkAddress("--target", target);
            StackMetrics metrics = stackMetrics();
            Optional<StackSecurity> stack = stackSecurity(address);
            ChannelCredentials tls = security.channel(environment(), stack);
            Optional<CallCredentials> key = security.key(environment(), stack);
            return interruptible(() -> {
                try (GatewayTarget gateway = new GatewayTarget(address, tls, key, connectTimeout)) {
                    int code = measure(gateway, metrics::read, all, null, null);
                    if (!gateway.duplicateJobs().isEmpty()) {
                        throw new CliException(ExitCodes.FAILED, "jobs with more than one result: "
                                + gateway.duplicateJobs());
                    }
                    return code;
                }
            });
        }
        CostModel cost = costModel();
        SchedulerConfig config = schedulerConfig();
        RuntimeOptions runtime = runtimeOptions().withCostModel(cost);
        return interruptible(() -> {
            try (Cascade cascade = Cascade.open(bundleDir(null), runtime,
                    new Scheduling(config, SchedulerObserver.NONE))) {
                return measure(embedded(cascade), () -> stats(cascade), all, cost,
                        (aloneUsage, clients) -> IdealSpeedup.closedLoop(cost, aloneUsage, all.size(), clients,
                                cascade.schedulers().stream().map(Batching::name).collect(Collectors.toSet()),
                                config.maxRows()));
            }
        });
    }

    /** What a perfect scheduler would get for a closed loop of {@code clients} (cost-curve runs only). */
    private interface Ideal {
        double speedup(Map<String, CostModel.Usage> aloneUsage, int clients);
    }

    private int measure(LoadRun.Target target, java.util.function.Supplier<Map<String, SchedulerStats>> stats,
                        List<GenerationRequest> all, CostModel cost, Ideal idealOf) throws Exception {
        double scale = cost == null ? 1 : cost.dilation();
        List<GenerationRequest> warm = new ArrayList<>();
        for (int i = 0; i < warmup; i++) {
            warm.add(all.get(i % all.size()));
        }
        new LoadRun(target, warm, null, interruption()::requested).closedLoop(Math.max(1, Math.min(warmup, clients())));
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("mode", rate == null ? "closed" : "open");
        if (rate == null) {
            report.put("concurrency", clients());
        } else {
            report.put("rate_per_s", rate);
        }
        report.put("size", all.get(0).size());
        List<LoadRun.Sample> alone = null;
        Map<String, CostModel.Usage> aloneUsage = null;
        if (baseline) {
            output.info("baseline: " + all.size() + " requests one at a time");
            Map<String, CostModel.Usage> before = cost == null ? Map.of() : cost.usage();
            alone = new LoadRun(target, all, null, interruption()::requested).closedLoop(1);
            aloneUsage = cost == null ? Map.of() : minus(cost.usage(), before);
            stopIfInterrupted();
        }
        output.info(rate == null ? "load: " + all.size() + " requests, " + clients() + " in flight"
                : "load: " + all.size() + " requests at " + rate + " a second (Poisson)");
        Map<String, SchedulerStats> statsBefore = stats.get();
        Map<String, CostModel.Usage> usageBefore = cost == null ? Map.of() : cost.usage();
        long[] arrivals = rate == null ? null : LoadRun.poissonArrivals(all.size(), rate / scale, seed);
        LoadRun load = new LoadRun(target, all, this::save, interruption()::requested);
        List<LoadRun.Sample> samples = rate == null ? load.closedLoop(clients()) : load.openLoop(arrivals);
        stopIfInterrupted();
        LatencyFigures f = LatencyFigures.of(samples, scale);
        put(report, f);
        if (cost != null) {
            Map<String, CostModel.Usage> used = minus(cost.usage(), usageBefore);
            long charged = used.values().stream().mapToLong(CostModel.Usage::chargedNanos).sum();
            long held = used.values().stream().mapToLong(CostModel.Usage::heldNanos).sum();
            report.put("device_busy", round(charged / 1e9 / scale / f.wallSeconds()));
            report.put("device_held", round(held / 1e9 / scale / f.wallSeconds()));
            Map<String, Object> calls = new LinkedHashMap<>();
            used.forEach((m, u) -> calls.put(m, u.calls()));
            report.put("model_calls", calls);
        }
        Map<String, SchedulerStats> statsAfter = stats.get();
        report.put("mean_batch_rows", meanRows(statsBefore, statsAfter));
        report.put("refused_by_stage", refusedByStage(statsBefore, statsAfter));
        Map<String, Long> errors = samples.stream().filter(s -> !s.ok())
                .collect(Collectors.groupingBy(LoadRun.Sample::error, TreeMap::new, Collectors.counting()));
        if (!errors.isEmpty()) {
            report.put("errors", errors);
        }
        if (alone != null) {
            LatencyFigures a = LatencyFigures.of(alone, scale);
            report.put("baseline_throughput_images_per_s", round(a.throughputImagesPerSecond()));
            long[] service = alone.stream().mapToLong(LoadRun.Sample::latency).toArray();
            long[] fifo = rate == null ? FifoBaseline.closedLoop(service, clients())
                    : FifoBaseline.openLoop(service, arrivals);
            report.put("baseline_fifo_p50_ms", ms(fifo, 50, scale));
            report.put("baseline_fifo_p95_ms", ms(fifo, 95, scale));
            report.put("baseline_fifo_p99_ms", ms(fifo, 99, scale));
            double speedup = f.throughputImagesPerSecond() / a.throughputImagesPerSecond();
            report.put("speedup", round(speedup));
            if (cost != null) {
                report.put("cost_runtime", cost.runtime());
                report.put("cost_dilation", cost.dilation());
                Double ideal = null;
                if (rate == null) {
                    ideal = idealOf.speedup(aloneUsage, clients());
                }
                Map<String, Object> perRequest = new LinkedHashMap<>();
                aloneUsage.forEach((m, u) -> perRequest.put(m, round((double) u.calls() / all.size())));
                report.put("baseline_calls_per_request", perRequest);
                report.put("ideal_speedup", ideal == null ? null : round(ideal));
                report.put("efficiency", ideal == null ? null : round(speedup / ideal));
            }
        } else if (cost != null) {
            report.put("cost_runtime", cost.runtime());
            report.put("cost_dilation", cost.dilation());
        }
        output.event("load", report);
        print(report);
        return f.failed() > 0 ? ExitCodes.FAILED : ExitCodes.OK;
    }

    /** Requests to the embedded cascade; a full stage queue counts as refused. */
    private static LoadRun.Target embedded(Cascade cascade) {
        PngCodec png = PngCodec.withDefaultLimits();
        return (request, previewed, cancelled) -> {
            CascadeListener listener = new CascadeListener() {
                @Override
                public void progress(StageProgress e) {
                    if (e.preview() != null) {
                        previewed.run();
                    }
                }
            };
            GenerationResult r;
            try {
                r = cascade.generate(request, listener, cancelled);
            } catch (QueueFullException e) {
                throw new LoadRun.Refused(e.getMessage());
            }
            return new LoadRun.Images() {
                @Override
                public int count() {
                    return r.count();
                }

                @Override
                public byte[] png(int index) {
                    return png.encode(r.images(), index, r.parameters().pngText(index));
                }
            };
        };
    }

    private void checkOptions() {
        if (requests < 1 || requests > 100_000) {
            throw CliException.badInput("--requests: must be between 1 and 100000, got " + requests);
        }
        if (concurrency != null && rate != null) {
            throw CliException.badInput("give --concurrency (closed loop) or --rate (open loop), not both");
        }
        if (concurrency != null && (concurrency < 1 || concurrency > 1024)) {
            throw CliException.badInput("--concurrency: must be between 1 and 1024, got " + concurrency);
        }
        if (rate != null && !(rate > 0 && rate <= 10_000)) {
            throw CliException.badInput("--rate: must be above 0 and at most 10000 requests a second, got " + rate);
        }
        if (warmup < 0 || warmup > 100) {
            throw CliException.badInput("--warmup: must be between 0 and 100, got " + warmup);
        }
        if (previewInterval < 0 || previewInterval > 1000) {
            throw CliException.badInput("--preview-interval: must be between 0 and 1000, got " + previewInterval);
        }
        if (target != null) {
            for (String local : List.of("--cost-curve", "--cost-runtime", "--cost-dilation", "--max-rows",
                    "--max-active-rows", "--admission-wait-ms", "--max-queued", "--candidates")) {
                if (spec.commandLine().getParseResult().hasMatchedOption(local)) {
                    throw CliException.badInput(local + " is for the embedded cascade, not with --target (the"
                            + " services' own settings apply)");
                }
            }
        }
        if (connectTimeout < 1 || connectTimeout > 600) {
            throw CliException.badInput("--connect-timeout: must be between 1 and 600, got " + connectTimeout);
        }
        if (costCurve == null && spec.commandLine().getParseResult().hasMatchedOption("--cost-runtime")) {
            throw CliException.badInput("--cost-runtime needs --cost-curve FILE");
        }
    }

    private int clients() {
        return concurrency == null ? 8 : concurrency;
    }

    private SchedulerConfig schedulerConfig() {
        try {
            return SchedulerConfig.DEFAULT.withMaxRows(maxRows).withMaxActiveRows(maxActiveRows).withMaxQueued(maxQueued)
                    .withAdmissionWait(Duration.ofMillis(admissionWaitMs));
        } catch (IllegalArgumentException e) {
            throw CliException.badInput(e.getMessage());
        }
    }

    private CostModel costModel() throws IOException {
        if (costCurve == null) {
            return null;
        }
        try {
            return CostModel.read(environment().workDir().resolve(costCurve), costRuntime, costDilation);
        } catch (NoSuchFileException e) {
            throw CliException.badInput("cannot read cost curve " + costCurve + ": no such file");
        } catch (IllegalArgumentException e) {
            throw CliException.badInput("--cost-curve: " + e.getMessage());
        }
    }

    /** Request i: prompt i of the mix, seed S+i (or the line's), the shared options. */
    private List<GenerationRequest> requests() throws IOException {
        List<PromptLines.Line> mix = new ArrayList<>();
        if (prompts != null) {
            List<String> lines = PromptLines.read(environment().workDir().resolve(prompts), prompts);
            PromptLines parser = new PromptLines();
            for (int i = 0; i < lines.size(); i++) {
                if (!lines.get(i).isBlank()) {
                    try {
                        mix.add(parser.parse(i + 1, lines.get(i)));
                    } catch (CliException e) {
                        throw CliException.badInput(prompts + " line " + (i + 1) + ": " + e.getMessage());
                    }
                }
            }
            if (mix.isEmpty()) {
                throw CliException.badInput("prompts file " + prompts + " has no prompts");
            }
        } else {
            for (int i = 0; i < BUILT_IN_PROMPTS.size(); i++) {
                mix.add(new PromptLines.Line(i + 1, "built-in-" + i, BUILT_IN_PROMPTS.get(i), null));
            }
        }
        StageOverrides o = sampling.overrides(prior.overrides(StageOverrides.none()));
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            PromptLines.Line line = mix.get(i % mix.size());
            GenerationRequest r = GenerationRequest.of(line.prompt()).withNumImages(numImages)
                    .withSeed(line.seed() != null ? line.seed() : seed + i).withSize(size).withOverrides(o)
                    .withPreviewInterval(previewInterval);
            r.validate();
            out.add(r);
        }
        return out;
    }

    /** Writes a finished request's images (on its thread, after its time was taken). */
    private void save(LoadRun.Sample s, LoadRun.Images r) {
        if (outDir == null || r == null) {
            return;
        }
        Path dir = environment().workDir().resolve(outDir);
        for (int k = 0; k < r.count(); k++) {
            Path file = dir.resolve(r.count() == 1 ? s.index() + ".png" : s.index() + "-" + k + ".png");
            try {
                byte[] bytes = r.png(k);
                Files.createDirectories(dir);
                AtomicFile.write(file, f -> Files.write(f, bytes));
            } catch (IOException e) {
                throw new CliException(ExitCodes.FAILED, "cannot write " + file + ": " + e.getMessage(), e);
            }
        }
    }

    /** Ctrl-C: the requests in flight were cancelled; a report of part of the load would mislead. */
    private void stopIfInterrupted() {
        if (interruption().requested()) {
            throw new CliException(ExitCodes.INTERRUPTED, "load interrupted; no report");
        }
    }

    /** The local stack's service replicas, if one runs; else nothing to read. */
    private Path stackState() {
        return stateDir != null ? environment().workDir().resolve(stateDir) : StackCommand.defaultStateDir(environment());
    }

    /** The local stack's secrets when {@code address} is its secure gateway. */
    private Optional<StackSecurity> stackSecurity(String address) {
        try {
            StackStatus s = LocalStack.status(stackState());
            return address.equals(s.gatewayAddress()) ? StackSecurity.load(s.stateDir()) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private StackMetrics stackMetrics() {
        List<Integer> ports = new ArrayList<>();
        try {
            StackStatus s = LocalStack.status(stackState());
            s.processes().stream().filter(p -> !p.service().equals(StackProcess.KAFKA) && p.alive() && p.port() > 0)
                    .forEach(p -> ports.add(p.port()));
        } catch (IOException | RuntimeException e) {
            // no readable stack state: no rows per call
        }
        return new StackMetrics(ports);
    }

    private static Map<String, SchedulerStats> stats(Cascade cascade) {
        Map<String, SchedulerStats> m = new LinkedHashMap<>();
        for (Batching s : cascade.schedulers()) {
            m.put(s.name(), s.stats());
        }
        return m;
    }

    private static Map<String, Object> meanRows(Map<String, SchedulerStats> before, Map<String, SchedulerStats> after) {
        Map<String, Object> m = new LinkedHashMap<>();
        after.forEach((name, a) -> {
            SchedulerStats b = before.getOrDefault(name, NO_STATS);
            long calls = a.modelCalls() - b.modelCalls();
            if (calls > 0) {
                m.put(name, round((double) (a.modelRows() - b.modelRows()) / calls));
            }
        });
        return m;
    }

    private static Map<String, Object> refusedByStage(Map<String, SchedulerStats> before,
                                                      Map<String, SchedulerStats> after) {
        Map<String, Object> m = new LinkedHashMap<>();
        after.forEach((name, a) -> {
            long refused = a.refused() - before.getOrDefault(name, NO_STATS).refused();
            if (refused > 0) {
                m.put(name, refused);
            }
        });
        return m;
    }

    private static Map<String, CostModel.Usage> minus(Map<String, CostModel.Usage> after,
                                                      Map<String, CostModel.Usage> before) {
        Map<String, CostModel.Usage> m = new TreeMap<>();
        after.forEach((k, a) -> {
            CostModel.Usage b = before.getOrDefault(k, new CostModel.Usage(0, 0, 0, 0));
            m.put(k, new CostModel.Usage(a.calls() - b.calls(), a.rows() - b.rows(),
                    a.chargedNanos() - b.chargedNanos(), a.heldNanos() - b.heldNanos()));
        });
        return m;
    }

    private static void put(Map<String, Object> report, LatencyFigures f) {
        report.put("requests", f.requests());
        report.put("completed", f.completed());
        report.put("failed", f.failed());
        report.put("refused", f.refused());
        report.put("images", f.images());
        report.put("wall_s", round(f.wallSeconds()));
        report.put("throughput_images_per_s", round(f.throughputImagesPerSecond()));
        report.put("p50_ms", round(f.p50Ms()));
        report.put("p95_ms", round(f.p95Ms()));
        report.put("p99_ms", round(f.p99Ms()));
        report.put("first_preview_p50_ms", round(f.firstPreviewP50Ms()));
        report.put("first_preview_p95_ms", round(f.firstPreviewP95Ms()));
    }

    private static Object ms(long[] nanos, double p, double scale) {
        return round(LatencyFigures.percentile(nanos, p) / 1e6 / scale);
    }

    private static Double round(double x) {
        return Double.isNaN(x) || Double.isInfinite(x) ? null : Math.round(x * 1000) / 1000.0;
    }

    /** The human-readable report: one figure a line. */
    private void print(Map<String, Object> report) {
        for (Map.Entry<String, Object> e : report.entrySet()) {
            Object v = e.getValue();
            output.info(String.format(Locale.ROOT, "%-34s %s", e.getKey(), v == null ? "-" : v));
        }
    }
}
