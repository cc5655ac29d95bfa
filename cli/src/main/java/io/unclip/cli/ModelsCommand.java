package io.unclip.cli;

import io.unclip.engine.model.DiffusionSpec;
import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.model.TensorDecl;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.engine.stage.SamplerSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code unclip models}: model bundle tools. */
@Command(name = "models", mixinStandardHelpOptions = true, description = "Model bundle tools.",
        subcommands = ModelsCommand.Check.class)
final class ModelsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand (check)");
    }

    /** {@code unclip models check [DIR]}. */
    @Command(name = "check", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Validate a model bundle (manifests, files, ONNX contracts, the cascade's sizes) and print"
                    + " its stages, tensors and sampling defaults.",
            footer = {"", "Exit status: 0 valid, 2 bad input, 3 missing or invalid model bundle."})
    static final class Check extends BaseCommand {
        @Parameters(index = "0", arity = "0..1", paramLabel = "DIR",
                description = "The bundle (default: --models, $UNCLIP_MODELS, or models/bundle).")
        Path dir;

        @Override
        int run() {
            Path bundleDir = bundleDir(dir);
            try (Cascade cascade = Cascade.open(bundleDir, runtimeOptions())) {
                var bundle = cascade.bundle();
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("bundle", bundle.name());
                report.put("version", bundle.version());
                report.put("dir", bundleDir.toString());
                bundle.manifest().description().ifPresent(d -> report.put("description", d));
                report.put("sizes", cascade.sizes());
                output.info("bundle " + bundle.name() + " " + bundle.version() + " at " + bundleDir);
                bundle.manifest().description().ifPresent(d -> output.info("  " + d));
                output.info("sizes: " + String.join(", ", cascade.sizes().stream().map(String::valueOf).toList()));
                List<Map<String, Object>> stages = new ArrayList<>();
                for (LoadedStage s : bundle.stages().values()) {
                    stages.add(describe(s, cascade));
                }
                report.put("stages", stages);
                report.put("valid", true);
                output.event("bundle", report);
                output.info("OK: " + bundle.stages().size() + " stages valid");
            }
            return ExitCodes.OK;
        }

        private Map<String, Object> describe(LoadedStage s, Cascade cascade) {
            StageManifest m = s.manifest();
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("name", s.name());
            d.put("kind", s.kind().id());
            d.put("onnx", m.onnxFile().getFileName().toString());
            d.put("device", s.session().device().id());
            output.info("");
            output.info("stage " + s.name() + " (" + s.kind().id() + "): " + m.onnxFile().getFileName() + " on "
                    + s.session().device().id());
            List<Map<String, Object>> tensors = new ArrayList<>();
            for (TensorDecl t : m.inputs()) {
                tensors.add(tensor("input", t));
            }
            for (TensorDecl t : m.outputs()) {
                tensors.add(tensor("output", t));
            }
            d.put("tensors", tensors);
            m.resolution().ifPresent(r -> {
                List<String> parts = new ArrayList<>();
                r.input().ifPresent(v -> parts.add("input " + v));
                r.output().ifPresent(v -> parts.add("output " + v));
                r.scale().ifPresent(v -> parts.add("scale " + v));
                d.put("resolution", String.join(", ", parts));
                output.info("  resolution: " + String.join(", ", parts));
            });
            s.tokenizer().ifPresent(t -> {
                d.put("tokenizer", t.file().getFileName().toString());
                d.put("context_length", t.contextLength());
                d.put("vocabulary", t.vocabularySize());
                output.info("  tokenizer: " + t.file().getFileName() + ", context " + t.contextLength() + ", vocabulary "
                        + t.vocabularySize());
            });
            m.normalization().ifPresent(n -> {
                d.put("normalization", n.dim() + " values");
                output.info("  normalization: mean/std of " + n.dim() + " values");
            });
            if (m.diffusion().isPresent()) {
                DiffusionSpec spec = m.diffusion().get();
                SamplerSettings defaults = SamplerSettings.resolve(s.name(), spec, SamplerOverrides.none());
                Map<String, Object> diff = new LinkedHashMap<>(defaults.toMap());
                diff.put("schedule", spec.schedule());
                diff.put("train_timesteps", spec.trainTimesteps());
                diff.put("prediction", spec.prediction());
                diff.put("variance", spec.variance());
                d.put("defaults", diff);
                output.info("  diffusion: " + spec.schedule() + " schedule, T " + spec.trainTimesteps() + ", predicts "
                        + spec.prediction() + ", variance " + spec.variance());
                output.info("  defaults: " + defaults.describe());
            }
            m.lowresResize().ifPresent(r -> {
                d.put("lowres_resize", r);
                output.info("  low-res image: " + r + " resize (torch F.interpolate, align_corners=False)");
            });
            if (!m.captionStyles().isEmpty()) {
                d.put("caption_styles", m.captionStyles());
                output.info("  caption styles: " + String.join(", ", m.captionStyles().entrySet().stream()
                        .map(e -> e.getKey() + " " + e.getValue()).toList()));
            }
            return d;
        }

        private Map<String, Object> tensor(String direction, TensorDecl t) {
            output.info(String.format(java.util.Locale.ROOT, "  %-6s %-28s %-8s %-22s %s", direction, t.name(),
                    t.type().id(), t.shapeText(), t.role() == null ? "(unused)" : "role " + t.role()));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("direction", direction);
            m.put("name", t.name());
            m.put("type", t.type().id());
            m.put("shape", t.shapeText());
            m.put("role", t.role());
            return m;
        }
    }
}
