package io.unclip.cli;

import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.image.ImageRejectedException;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.model.ModelRepositoryException;
import io.unclip.engine.onnx.InferenceException;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.tensor.Tensor;
import io.unclip.engine.text.TokenizerException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Shared plumbing of the commands: common options, output, bundle loading, image reading and
 * writing, and turning every failure into one line on stderr and an exit status (a stack trace
 * only with {@code --debug}).
 */
abstract class BaseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    /** Request field paths as the user typed them on this command line. */
    private static final Map<String, String> OPTION_NAMES = Map.ofEntries(
            Map.entry("num_images", "-n"),
            Map.entry("size", "--size"),
            Map.entry("preview_interval", "--preview-interval"),
            Map.entry("prior.candidates", "--candidates"),
            Map.entry("prior.steps", "--prior-steps"),
            Map.entry("prior.guidance_scale", "--prior-guidance"),
            Map.entry("decoder.steps", "--decoder-steps"),
            Map.entry("decoder.guidance_scale", "--decoder-guidance"),
            Map.entry("decoder.classifier_guidance", "--classifier-guidance"),
            Map.entry("decoder.candidates", "--decoder-candidates"),
            Map.entry("decoder.sampler", "--sampler"),
            Map.entry("decoder.eta", "--eta"),
            Map.entry("upsampler.steps", "--sr-steps"),
            Map.entry("frames", "--frames"),
            Map.entry("towards_prompt", "--towards"),
            Map.entry("source_prompt", "--from"),
            Map.entry("max_angle", "--max-angle"),
            Map.entry("style", "--style"),
            Map.entry("max_tokens", "--max-tokens"));

    Output output;

    /** The command's work; throw to fail. */
    abstract int run() throws Exception;

    @Override
    public final Integer call() {
        output = new Output(spec.commandLine().getOut(), spec.commandLine().getErr(), common.json,
                environment().terminal());
        try {
            return run();
        } catch (Exception e) {
            return fail(e);
        }
    }

    /** Reports a failure as one line; returns its exit status. */
    int fail(Exception e) {
        if (e instanceof SamplingCancelledException c && interruption().requested()) {
            return cancelled(c);
        }
        int code = exitCode(e);
        output.error(message(e));
        if (common.debug) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            spec.commandLine().getErr().print(trace);
            spec.commandLine().getErr().flush();
        }
        return code;
    }

    /** Ctrl-C stopped the cascade: one line saying where, exit 130. */
    private int cancelled(SamplingCancelledException c) {
        String stage = output.currentStage() == null ? "?" : output.currentStage();
        output.endLine();
        String line = "cancelled after stage " + stage + " step " + c.completedSteps() + "/" + c.totalSteps();
        spec.commandLine().getErr().println("unclip: " + line);
        spec.commandLine().getErr().flush();
        output.event("cancelled", Output.map("stage", stage, "step", c.completedSteps(), "total", c.totalSteps()));
        return ExitCodes.INTERRUPTED;
    }

    Interruption interruption() {
        Object root = spec.root().userObject();
        return root instanceof UnclipCommand u ? u.interruption() : FALLBACK_INTERRUPTION;
    }

    /**
     * Runs an image command's work with Ctrl-C stopping the cascade: SIGINT is routed to
     * {@link #interruption()} for the duration (when this is the CLI's own process).
     */
    <T> T interruptible(Callable<T> work) throws Exception {
        Object root = spec.root().userObject();
        boolean signals = root instanceof UnclipCommand u && u.handlesSignals();
        if (!signals) {
            return work.call();
        }
        try (Interruption.Installed handler = interruption().onSigint()) {
            return work.call();
        }
    }

    private static final Interruption FALLBACK_INTERRUPTION = new Interruption(() -> { });

    static int exitCode(Exception e) {
        if (e instanceof CliException c) {
            return c.exitCode();
        }
        if (e instanceof ModelRepositoryException || e instanceof TokenizerException) {
            return ExitCodes.BAD_BUNDLE;
        }
        if (e instanceof InvalidRequestException || e instanceof ImageRejectedException) {
            return ExitCodes.BAD_INPUT;
        }
        return ExitCodes.FAILED;
    }

    static String message(Exception e) {
        if (e instanceof InvalidRequestException r) {
            String option = OPTION_NAMES.get(r.field());
            return option == null ? r.getMessage() : option + r.getMessage().substring(r.field().length());
        }
        if (e instanceof ModelRepositoryException) {
            return "invalid model bundle: " + e.getMessage();
        }
        if (e instanceof SamplingCancelledException) {
            return "cancelled: " + e.getMessage();
        }
        if (e instanceof InferenceException) {
            return "inference failed: " + e.getMessage();
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : firstLine(m);
    }

    private static String firstLine(String m) {
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    Environment environment() {
        Object root = spec.root().userObject();
        return root instanceof UnclipCommand u ? u.environment() : Environment.system();
    }

    /** Loads the bundle of {@code --models} (or the default) with {@code --device} and {@code --threads}. */
    Cascade openCascade() {
        return Cascade.open(bundleDir(null), runtimeOptions());
    }

    Path bundleDir(Path positional) {
        return environment().bundle(positional != null ? positional : common.models);
    }

    RuntimeOptions runtimeOptions() {
        if (common.threads < 0 || common.threads > 1024) {
            throw CliException.badInput("--threads: must be between 0 and 1024, got " + common.threads);
        }
        try {
            return RuntimeOptions.defaults().withDevice(common.device).withThreads(common.threads, 0);
        } catch (IllegalArgumentException e) {
            throw CliException.badInput("--device: " + e.getMessage());
        }
    }

    /** Reads a PNG (size limits checked from its header before decoding) as [1, 3, H, W]. */
    Tensor readImage(String what, Path file) {
        Path p = environment().workDir().resolve(file);
        try {
            return PngCodec.withDefaultLimits().read(p).pixels();
        } catch (NoSuchFileException e) {
            throw CliException.badInput("cannot read " + what + " " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw CliException.badInput("cannot read " + what + " " + file + ": permission denied");
        } catch (ImageRejectedException e) {
            throw CliException.badInput(what + " " + file + ": " + e.getMessage());
        } catch (IOException e) {
            throw CliException.badInput("cannot read " + what + " " + file + ": " + e.getMessage());
        }
    }

    /** Where image i of n goes: {@code out} for one image, {@code out-i.ext} for several. */
    static Path numbered(Path out, int index, int count) {
        if (count == 1) {
            return out;
        }
        String name = out.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : ".png";
        return out.resolveSibling(stem + "-" + index + ext);
    }

    /** Writes every image of the result with its parameters as PNG text; returns the files. */
    List<Path> writeImages(GenerationResult r, Path out, boolean alwaysNumbered) {
        return writeImages(r, out, alwaysNumbered, output);
    }

    /** As {@link #writeImages(GenerationResult, Path, boolean)}, reporting to {@code output}. */
    List<Path> writeImages(GenerationResult r, Path out, boolean alwaysNumbered, Output output) {
        Path base = environment().workDir().resolve(out);
        List<Path> files = new ArrayList<>();
        PngCodec png = PngCodec.withDefaultLimits();
        int n = r.count();
        for (int i = 0; i < n; i++) {
            Path file = numbered(base, i, alwaysNumbered ? Math.max(2, n) : n);
            int index = i;
            try {
                if (file.getParent() != null) {
                    Files.createDirectories(file.getParent());
                }
                // under a temporary name first: a failed or killed write leaves no partial PNG
                AtomicFile.write(file, f -> png.write(r.images(), index, r.parameters().pngText(index), f));
            } catch (IOException e) {
                throw new CliException(ExitCodes.FAILED, "cannot write " + file + ": " + e.getMessage(), e);
            }
            files.add(file);
            String shown = file.startsWith(environment().workDir())
                    ? environment().workDir().relativize(file).toString() : file.toString();
            output.event("image", Output.map("index", i, "path", shown));
            output.info("wrote " + shown);
        }
        return files;
    }

    /** The closing summary line (and, with --json, a "done" event listing the files). */
    void summary(GenerationResult r, List<Path> files) {
        output.event("done", Output.map("seed", io.unclip.engine.pipeline.Requests.seedText(r.parameters().seed()),
                "files", files.stream().map(f -> f.startsWith(environment().workDir())
                        ? environment().workDir().relativize(f).toString() : f.toString()).toList()));
        output.info(String.format(java.util.Locale.ROOT, "done: seed %s, %d image%s of %dx%d in %.2f s (ONNX Runtime"
                        + " %.2f s)", io.unclip.engine.pipeline.Requests.seedText(r.parameters().seed()), r.count(),
                r.count() == 1 ? "" : "s", r.parameters().size(), r.parameters().size(), r.wallNanos() / 1e9,
                r.ortNanos() / 1e9));
    }
}
