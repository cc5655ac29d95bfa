package io.unclip.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.pipeline.CascadeListener;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.JobStarted;
import io.unclip.engine.pipeline.Requests;
import io.unclip.engine.stage.StageProgress;
import io.unclip.engine.stage.StageStarted;
import io.unclip.engine.stage.StageTimings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Everything the command prints. Three styles: {@code --json} (one JSON object per line on
 * stdout, nothing else there), a progress bar per stage when stdout is a terminal, plain progress
 * lines otherwise. Errors and warnings always go to stderr as one line each.
 */
final class Output implements CascadeListener {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BAR = 24;

    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean json;
    private final boolean terminal;
    private Path previewDir;
    private String context = "";
    private int lastPlainTenth = -1;
    private volatile String currentStage;
    private Output parent; // a batch line's output tells its command where a cancelled run stopped

    Output(PrintWriter out, PrintWriter err, boolean json, boolean terminal) {
        this.out = out;
        this.err = err;
        this.json = json;
        this.terminal = terminal && !json;
    }

    boolean json() {
        return json;
    }

    /** The stage that started last (where a cancelled run stopped), or null before any. */
    String currentStage() {
        return currentStage;
    }

    /** Ends a progress bar line, so what follows starts on its own line. */
    void endLine() {
        if (terminal) {
            out.println();
            out.flush();
        }
    }

    /** Where to write x0 previews (null = nowhere). */
    void previewsTo(Path dir) {
        this.previewDir = dir;
    }

    /**
     * An output for one of several batch lines running at once: the same streams (each line is
     * printed whole), its own prefix, and plain progress lines instead of bars that would overwrite
     * each other.
     */
    Output forLine(String id, boolean alone) {
        Output o = new Output(out, err, json, terminal && alone);
        o.previewDir = previewDir;
        o.parent = this;
        o.context(id);
        return o;
    }

    /** A prefix for events of one batch line ("id" in JSON, "[id] " in text). */
    void context(String id) {
        this.context = id == null ? "" : id;
    }

    // ---- plain messages ----

    void info(String line) {
        if (!json) {
            out.println(prefix() + line);
            out.flush();
        }
    }

    void event(String type, Map<String, Object> fields) {
        if (!json) {
            return;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", type);
        if (!context.isEmpty()) {
            m.put("id", context);
        }
        m.putAll(fields);
        try {
            out.println(JSON.writeValueAsString(m));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        out.flush();
    }

    void error(String message) {
        String line = message.replace('\n', ' ');
        err.println("unclip: " + prefix() + line);
        err.flush();
        event("error", Map.of("message", line));
    }

    @Override
    public void warning(String message) {
        err.println("unclip: warning: " + prefix() + message);
        err.flush();
        event("warning", Map.of("message", message));
    }

    private String prefix() {
        return context.isEmpty() ? "" : "[" + context + "] ";
    }

    // ---- cascade events ----

    @Override
    public void started(JobStarted job) {
        event("started", map("mode", job.mode(), "seed", Requests.seedText(job.seed()), "num_images", job.numImages(),
                "size", job.size()));
        info(job.mode() + ": " + job.numImages() + " image" + (job.numImages() == 1 ? "" : "s") + " of " + job.size()
                + "x" + job.size() + ", seed " + Requests.seedText(job.seed()));
    }

    @Override
    public void stageStarted(StageStarted e) {
        lastPlainTenth = -1;
        currentStage = e.stage();
        if (parent != null) {
            parent.currentStage = e.stage();
        }
        event("stage_started", map("stage", e.stage(), "kind", e.kind().id(), "cascade_step", e.cascadeStep(),
                "steps", e.totalSteps(), "rows", e.rows()));
    }

    @Override
    public void progress(StageProgress e) {
        List<String> previews = writePreviews(e);
        if (json) {
            Map<String, Object> m = map("stage", e.stage(), "step", e.step(), "total", e.total());
            if (!previews.isEmpty()) {
                m.put("previews", previews);
            }
            event("progress", m);
        } else if (terminal) {
            int filled = (int) ((long) BAR * e.step() / e.total());
            out.print("\r" + prefix() + String.format(Locale.ROOT, "%-14s [%s%s] %d/%d", e.stage(), "#".repeat(filled),
                    "-".repeat(BAR - filled), e.step(), e.total()));
            out.flush();
        } else if (e.total() > 1) {
            int fifth = 5 * e.step() / e.total();
            if (fifth != lastPlainTenth && e.step() < e.total()) {
                lastPlainTenth = fifth;
                if (fifth > 0) {
                    info(e.stage() + ": step " + e.step() + "/" + e.total());
                }
            }
        }
    }

    @Override
    public void stageFinished(StageTimings t) {
        event("stage_finished", map("stage", t.stage(), "kind", t.kind().id(), "cascade_step", t.cascadeStep(),
                "steps", t.steps(), "model_calls", t.modelCalls(), "wall_ms", round(t.wallMillis()),
                "ort_ms", round(t.ortMillis())));
        String line = String.format(Locale.ROOT, "%-14s %3d step%s  %7.2f s  (ONNX Runtime %.2f s)", t.stage(),
                t.steps(), t.steps() == 1 ? " " : "s", t.wallNanos() / 1e9, t.ortNanos() / 1e9);
        if (terminal) {
            out.print("\r" + " ".repeat(BAR + 30) + "\r");
        }
        info(line);
    }

    @Override
    public void result(GenerationResult r) {
        event("result", map("seed", Requests.seedText(r.parameters().seed()), "images", r.count(),
                "wall_ms", round(r.wallNanos() / 1e6), "ort_ms", round(r.ortNanos() / 1e6),
                "parameters", r.parameters().toMap()));
    }

    private List<String> writePreviews(StageProgress e) {
        List<String> files = new ArrayList<>();
        if (previewDir == null || e.preview() == null) {
            return files;
        }
        try {
            Files.createDirectories(previewDir);
            PngCodec png = PngCodec.withDefaultLimits();
            for (int i = 0; i < e.preview().dim(0); i++) {
                String name = (context.isEmpty() ? "" : context + "-") + e.stage()
                        + String.format(Locale.ROOT, "-step%03d-%d.png", e.step(), i);
                Path file = previewDir.resolve(name);
                png.write(e.preview(), i, Map.of("preview", e.stage() + " step " + e.step() + "/" + e.total()), file);
                files.add(file.toString());
            }
        } catch (IOException ex) {
            throw new CliException(ExitCodes.FAILED, "cannot write previews to " + previewDir + ": " + ex.getMessage(),
                    ex);
        }
        return files;
    }

    static double round(double ms) {
        return Math.round(ms * 100) / 100.0;
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
