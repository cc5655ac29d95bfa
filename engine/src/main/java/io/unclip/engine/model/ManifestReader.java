package io.unclip.engine.model;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unclip.engine.onnx.ElementType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads {@code bundle.json} and stage {@code manifest.json} files into validated records. Checks
 * everything that can be checked without ONNX Runtime: syntax, required fields, allowed values,
 * referenced files, and consistency between sections. Unknown fields are ignored so that newer
 * manifests stay readable.
 */
final class ManifestReader {
    /** The manifest format this engine reads. */
    static final int MANIFEST_VERSION = 1;

    private static final Pattern STAGE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");

    private final ObjectMapper mapper = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    BundleManifest readBundle(Path bundleDir) {
        if (!Files.exists(bundleDir)) {
            throw new ModelRepositoryException(bundleDir, "model bundle not found: " + bundleDir);
        }
        if (!Files.isDirectory(bundleDir)) {
            throw new ModelRepositoryException(bundleDir, "model bundle is not a directory: " + bundleDir);
        }
        Path file = bundleDir.resolve("bundle.json");
        JsonFields root = parse(file, "bundle.json");
        List<String> stages = root.texts("stages");
        if (stages.isEmpty()) {
            throw root.error("stages", "must list at least one stage");
        }
        Set<String> seen = new HashSet<>();
        for (String stage : stages) {
            if (!STAGE_NAME.matcher(stage).matches()) {
                throw root.error("stages", "has '" + stage + "', which is not a plain directory name");
            }
            if (!seen.add(stage)) {
                throw root.error("stages", "lists '" + stage + "' twice");
            }
        }
        Optional<Path> base = root.optionalText("base").map(b -> baseDir(root, bundleDir, b));
        if (base.isPresent()) {
            for (String stage : stages) {
                if (!Files.isDirectory(bundleDir.resolve(stage)) && !Files.isDirectory(base.get().resolve(stage))) {
                    throw new ModelRepositoryException(bundleDir.resolve(stage), stage + "/: stage directory listed"
                            + " in bundle.json is in neither this bundle nor its base " + base.get());
                }
            }
        }
        return new BundleManifest(bundleDir, root.text("name"), root.textOrNumber("version"),
                root.optionalText("description"), stages, base);
    }

    /** bundleDir/stage, or for an overlay bundle that lacks it, the base's. */
    private Path stageDir(Path bundleDir, String stage) {
        Path dir = bundleDir.resolve(stage);
        if (!Files.isDirectory(dir) && Files.isRegularFile(bundleDir.resolve("bundle.json"))) {
            Optional<Path> base = readBundle(bundleDir).base();
            if (base.isPresent()) {
                return base.get().resolve(stage);
            }
        }
        return dir;
    }

    /** The base of an overlay bundle: a relative path to a directory holding a bundle.json. */
    private static Path baseDir(JsonFields root, Path bundleDir, String base) {
        Path rel = Path.of(base);
        if (rel.isAbsolute()) {
            throw root.error("base", "is '" + base + "': give a path relative to this bundle (e.g. \"..\")");
        }
        Path dir = bundleDir.resolve(rel).normalize();
        if (dir.equals(bundleDir.normalize()) || !Files.isRegularFile(dir.resolve("bundle.json"))) {
            throw root.error("base", "is '" + base + "', which is not another bundle directory (no bundle.json at "
                    + dir + ")");
        }
        return dir;
    }

    StageManifest readStage(Path bundleDir, String stage) {
        Path dir = stageDir(bundleDir, stage);
        if (!Files.isDirectory(dir)) {
            throw new ModelRepositoryException(dir, stage + "/: stage directory listed in bundle.json is missing");
        }
        JsonFields m = parse(dir.resolve("manifest.json"), stage + "/manifest.json");
        OptionalInt version = m.optionalInteger("manifest_version", 1);
        if (version.isPresent() && version.getAsInt() != MANIFEST_VERSION) {
            throw m.error("manifest_version", "is " + version.getAsInt() + ", this engine reads version "
                    + MANIFEST_VERSION);
        }
        StageKind kind = StageKind.fromId(m.oneOf("kind",
                Arrays.stream(StageKind.values()).map(StageKind::id).toList())).orElseThrow();
        Path onnx = stageFile(dir, m, "onnx", m.text("onnx"));
        List<Path> external = new ArrayList<>();
        for (String name : m.optionalTexts("external_data")) {
            external.add(stageFile(dir, m, "external_data", name));
        }
        List<TensorDecl> inputs = tensors(m, "inputs", kind, true);
        List<TensorDecl> outputs = tensors(m, "outputs", kind, false);

        Optional<DiffusionSpec> diffusion = Optional.empty();
        if (kind.isDiffusion()) {
            diffusion = Optional.of(diffusion(m.object("diffusion"), kind));
        } else if (m.has("diffusion")) {
            throw m.error("diffusion", "is only for prior, decoder and upsampler stages, this one is " + a(kind));
        }
        Optional<Resolution> resolution = m.optionalObject("resolution").map(ManifestReader::resolution);
        requireResolution(m, kind, resolution);
        Conditioning conditioning = m.optionalObject("conditioning").map(ManifestReader::conditioning)
                .orElse(Conditioning.none());
        Optional<Normalization> normalization = m.has("normalization")
                ? Optional.of(normalization(dir, m)) : Optional.empty();
        Optional<Path> tokenizer = m.optionalText("tokenizer").map(name -> stageFile(dir, m, "tokenizer", name));
        if (tokenizer.isEmpty() && (kind == StageKind.TEXT_ENCODER || kind == StageKind.CAPTIONER)) {
            throw new ModelRepositoryException(m.file(), m.source() + ": required field 'tokenizer' is missing (a "
                    + kind.id() + " needs its tokenizer.json)");
        }
        if (tokenizer.isPresent() && conditioning.textTokens().isEmpty()) {
            throw new ModelRepositoryException(m.file(), m.source() + ": required field 'conditioning.text_tokens'"
                    + " is missing (token ids are padded to it)");
        }
        Optional<String> lowresResize = Optional.empty();
        if (kind == StageKind.UPSAMPLER) {
            lowresResize = Optional.of(m.has("lowres_resize")
                    ? m.oneOf("lowres_resize", StageManifest.LOWRES_RESIZES) : "bilinear");
        } else if (m.has("lowres_resize")) {
            throw m.error("lowres_resize", "is only for upsampler stages, this one is " + a(kind));
        }
        Map<String, String> captionStyles = new LinkedHashMap<>();
        if (kind == StageKind.CAPTIONER) {
            m.optionalObject("caption_styles").ifPresent(styles -> {
                List<String> names = styles.keys();
                if (names.isEmpty()) {
                    throw m.error("caption_styles", "must name at least one style, e.g. {\"short\": \"[SHORT]\"}");
                }
                for (String name : names) {
                    captionStyles.put(name, styles.text(name));
                }
            });
        } else if (m.has("caption_styles")) {
            throw m.error("caption_styles", "is only for captioner stages, this one is " + a(kind));
        }
        Map<String, UnconditionalInput> unconditional = unconditional(dir, m, kind, inputs, conditioning);
        Optional<Path> lastStep = Optional.empty();
        if (m.has("last_step_onnx")) {
            if (kind != StageKind.UPSAMPLER) {
                throw m.error("last_step_onnx", "is only for upsampler stages, this one is " + a(kind));
            }
            lastStep = Optional.of(stageFile(dir, m, "last_step_onnx", m.text("last_step_onnx")));
            if (lastStep.get().equals(onnx)) {
                throw m.error("last_step_onnx", "names the same file as 'onnx'; leave it out to run one graph for"
                        + " every step");
            }
        }
        boolean clamp = m.flag("clamp_output");
        if (m.has("clamp_output") && kind != StageKind.DECODER && kind != StageKind.UPSAMPLER) {
            throw m.error("clamp_output", "is only for decoder and upsampler stages, this one is " + a(kind));
        }
        boolean antialias = m.flag("lowres_antialias");
        if (m.has("lowres_antialias")) {
            if (kind != StageKind.UPSAMPLER) {
                throw m.error("lowres_antialias", "is only for upsampler stages, this one is " + a(kind));
            }
            if (antialias && lowresResize.orElseThrow().equals("nearest")) {
                throw m.error("lowres_antialias", "applies to lowres_resize bilinear or bicubic, this one is nearest");
            }
            if (antialias && inputs.stream().anyMatch(t -> "low_res".equals(t.role()))) {
                throw m.error("lowres_antialias", "has nothing to do: the model takes the low-resolution image"
                        + " unresized (its input with role low_res)");
            }
        }
        Optional<String> padToken = Optional.empty();
        if (m.has("pad_token")) {
            if (tokenizer.isEmpty()) {
                throw m.error("pad_token", "is only for stages with a tokenizer (text_encoder, captioner), this one"
                        + " is " + a(kind));
            }
            padToken = Optional.of(m.text("pad_token"));
        }
        StageManifest manifest = new StageManifest(stage, dir, kind, onnx, external, inputs, outputs, diffusion,
                resolution, normalization, conditioning, tokenizer, lowresResize, captionStyles, unconditional,
                lastStep, clamp, antialias, padToken);
        List<String> problems = ManifestConsistency.check(manifest);
        if (!problems.isEmpty()) {
            throw new ModelRepositoryException(m.file(), problems.stream()
                    .map(p -> m.source() + ": " + p).collect(Collectors.joining("; ")));
        }
        return manifest;
    }

    /** Roles a learned unconditional value may replace, by kind. */
    private static List<String> unconditionalRoles(StageKind kind) {
        return switch (kind) {
            case PRIOR -> List.of("text_embeds");
            case DECODER -> List.of("image_embeds", "text_embeds");
            case UPSAMPLER -> List.of("image_embeds");
            default -> List.of();
        };
    }

    /** "unconditional": {"image_embeds": "file.npy"}: each a declared input's row, [E] or [1, E], finite. */
    private static Map<String, UnconditionalInput> unconditional(Path dir, JsonFields m, StageKind kind,
                                                                 List<TensorDecl> inputs,
                                                                 Conditioning conditioning) {
        Map<String, UnconditionalInput> out = new LinkedHashMap<>();
        if (!m.has("unconditional")) {
            return out;
        }
        List<String> allowed = unconditionalRoles(kind);
        if (allowed.isEmpty()) {
            throw m.error("unconditional", "is only for prior, decoder and upsampler stages, this one is " + a(kind));
        }
        JsonFields u = m.object("unconditional");
        if (u.keys().isEmpty()) {
            throw m.error("unconditional", "must name at least one input role, e.g. {\"image_embeds\":"
                    + " \"unconditional_image_embeds.npy\"}");
        }
        for (String role : u.keys()) {
            if (!allowed.contains(role)) {
                throw u.error(role, "is not a role with a learned unconditional value; " + a(kind) + " allows "
                        + String.join(", ", allowed));
            }
            TensorDecl input = inputs.stream().filter(t -> role.equals(t.role())).findFirst().orElseThrow(() ->
                    u.error(role, "is for role " + role + ", but the stage declares no input with that role"));
            String name = u.text(role);
            Path file = stageFile(dir, m, "unconditional." + role, name);
            String source = m.source().replace("manifest.json", name);
            NpyArray array;
            try {
                array = NpyArray.read(file);
            } catch (IllegalArgumentException e) {
                throw new ModelRepositoryException(file, source + ": " + e.getMessage());
            } catch (IOException e) {
                throw new ModelRepositoryException(file, source + ": cannot read: " + e.getMessage(), e);
            }
            long[] shape = array.shape();
            boolean row = shape.length == 1 || (shape.length == 2 && shape[0] == 1);
            long width = shape.length == 0 ? 0 : shape[shape.length - 1];
            if (!row || width == 0) {
                throw new ModelRepositoryException(file, source + ": has shape " + array.shapeText() + ", expected one"
                        + " row of input '" + input.name() + "', [E] or [1, E]");
            }
            OptionalLong fixed = input.fixedDim(input.rank() - 1);
            if (input.rank() != 2 || (fixed.isPresent() && fixed.getAsLong() != width)) {
                throw new ModelRepositoryException(file, source + ": has shape " + array.shapeText() + ", input '"
                        + input.name() + "' " + input.shapeText() + " takes rows of " + (input.rank() == 2
                        ? fixed.getAsLong() + " values" : "another shape (a learned value is one [E] row)"));
            }
            if (conditioning.embeddingDim().isPresent() && conditioning.embeddingDim().getAsInt() != width) {
                throw new ModelRepositoryException(file, source + ": has " + width + " values,"
                        + " conditioning.embedding_dim is " + conditioning.embeddingDim().getAsInt());
            }
            float[] values = array.values();
            for (int i = 0; i < values.length; i++) {
                if (!Float.isFinite(values[i])) {
                    throw new ModelRepositoryException(file, source + ": has " + values[i] + " at index " + i
                            + "; every value must be finite");
                }
            }
            out.put(role, new UnconditionalInput(role, file, values));
        }
        return out;
    }

    private JsonFields parse(Path file, String source) {
        if (!Files.isRegularFile(file)) {
            throw new ModelRepositoryException(file, source + ": file not found (" + file + ")");
        }
        try {
            byte[] bytes = Files.readAllBytes(file);
            JsonNode root = mapper.readTree(bytes);
            if (root == null || root.isMissingNode()) {
                throw new ModelRepositoryException(file, source + ": file is empty");
            }
            return JsonFields.root(file, source, root);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
            throw new ModelRepositoryException(file, source + ": not valid JSON" + where + ": "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelRepositoryException(file, source + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** A file named by a manifest field: must stay inside the stage directory and exist. */
    private static Path stageFile(Path dir, JsonFields m, String field, String name) {
        Path file = dir.resolve(name).normalize();
        if (!file.startsWith(dir.normalize()) || name.isBlank()) {
            throw m.error(field, "names '" + name + "', which is outside the stage directory");
        }
        if (!Files.isRegularFile(file)) {
            throw new ModelRepositoryException(file, m.source() + ": file '" + name + "' named in field '" + field
                    + "' does not exist");
        }
        if (!Files.isReadable(file)) {
            throw new ModelRepositoryException(file, m.source() + ": file '" + name + "' named in field '" + field
                    + "' is not readable");
        }
        return file;
    }

    private static List<TensorDecl> tensors(JsonFields m, String key, StageKind kind, boolean inputs) {
        String what = inputs ? "input" : "output";
        List<JsonFields> items = m.objects(key);
        if (items.isEmpty()) {
            throw m.error(key, "must declare at least one " + what);
        }
        List<TensorDecl> decls = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> roles = new HashSet<>();
        for (JsonFields t : items) {
            String name = t.text("name");
            if (!names.add(name)) {
                throw m.error(key, "declares " + what + " '" + name + "' twice");
            }
            String typeId = t.text("type");
            ElementType type = ElementType.fromId(typeId).orElseThrow(() -> t.error("type", "is '" + typeId
                    + "', expected one of " + Arrays.stream(ElementType.values())
                    .filter(e -> e != ElementType.OTHER).map(ElementType::id).collect(Collectors.joining(", "))));
            String role = role(t, name, kind, inputs);
            if (role != null && !roles.add(role)) {
                throw m.error(key, "gives role '" + role + "' to more than one " + what);
            }
            decls.add(new TensorDecl(name, role, type, shape(t)));
        }
        Set<String> required = inputs ? kind.requiredInputRoles() : kind.requiredOutputRoles();
        List<String> missing = required.stream().filter(r -> !roles.contains(r)).sorted().toList();
        if (!missing.isEmpty()) {
            String hints = decls.stream().filter(d -> d.role() == null)
                    .flatMap(d -> DiffusersNames.hint(kind, d.name()).stream()).collect(Collectors.joining("; "));
            if (!hints.isEmpty()) {
                hints = "; " + hints;
            }
            throw m.error(key, "has no " + what + " with role " + String.join(", ", missing) + " (" + a(kind)
                    + " needs " + String.join(", ", required.stream().sorted().toList()) + ")" + hints);
        }
        return decls;
    }

    /**
     * A tensor's role: explicit, or its name when that is a role of the kind. Every input needs
     * one (the engine must know what to feed); outputs without one are computed and ignored.
     */
    private static String role(JsonFields t, String name, StageKind kind, boolean input) {
        List<String> allowed = (input ? concat(kind.requiredInputRoles(), kind.optionalInputRoles())
                : concat(kind.requiredOutputRoles(), kind.optionalOutputRoles()));
        if (t.has("role")) {
            String role = t.text("role");
            if (!allowed.contains(role)) {
                throw t.error("role", "is '" + role + "', a " + kind.id() + " " + (input ? "input" : "output")
                        + " role is one of " + String.join(", ", allowed));
            }
            return role;
        }
        if (allowed.contains(name)) {
            return name;
        }
        if (input) {
            throw t.error("role", "is missing for input '" + name + "': name one of " + String.join(", ", allowed)
                    + DiffusersNames.hint(kind, name).map(h -> "; " + h).orElse(""));
        }
        return null;
    }

    private static List<Dim> shape(JsonFields t) {
        JsonNode shape = t.raw("shape");
        if (!shape.isArray()) {
            throw t.error("shape", "must be an array of sizes, -1 or symbolic names, found "
                    + JsonFields.describe(shape));
        }
        List<Dim> dims = new ArrayList<>();
        for (JsonNode d : shape) {
            if (d.isIntegralNumber() && d.canConvertToLong() && d.asLong() >= -1) {
                dims.add(d.asLong() == -1 ? Dim.dynamic(null) : Dim.fixed(d.asLong()));
            } else if (d.isTextual() && !d.asText().isBlank()) {
                dims.add(Dim.dynamic(d.asText()));
            } else {
                throw t.error("shape", "has " + JsonFields.describe(d)
                        + "; a dimension is a size >= 0, -1 or a symbolic name");
            }
        }
        return dims;
    }

    private static DiffusionSpec diffusion(JsonFields d, StageKind kind) {
        String schedule = d.oneOf("schedule", DiffusionSpec.SCHEDULES);
        int timesteps = d.integer("train_timesteps", 1);
        String prediction = d.oneOf("prediction", DiffusionSpec.PREDICTIONS);
        String variance = d.oneOf("variance", DiffusionSpec.VARIANCES);
        var clip = d.optionalNumber("clip_range");
        if (clip.isPresent() && !(clip.getAsDouble() > 0 && Double.isFinite(clip.getAsDouble()))) {
            throw d.error("clip_range", "must be a positive number or null, found " + clip.getAsDouble());
        }
        String sampler = d.oneOf("sampler", DiffusionSpec.SAMPLERS);
        String respacing = d.text("respacing");
        String problem = respacingProblem(respacing, timesteps);
        if (problem != null) {
            throw d.error("respacing", "is '" + respacing + "': " + problem);
        }
        double eta = d.optionalNumber("eta").orElse(0.0);
        if (!(eta >= 0 && Double.isFinite(eta))) {
            throw d.error("eta", "must be >= 0, found " + eta);
        }
        double guidance = d.optionalNumber("guidance_scale").orElse(1.0);
        if (!(guidance >= 0 && Double.isFinite(guidance))) {
            throw d.error("guidance_scale", "must be >= 0, found " + guidance);
        }
        int candidates = d.optionalInteger("candidates", 1)
                .orElse(kind == StageKind.PRIOR ? DiffusionSpec.PRIOR_CANDIDATES : 1);
        if (candidates > DiffusionSpec.MAX_CANDIDATES) {
            throw d.error("candidates", "must be at most " + DiffusionSpec.MAX_CANDIDATES + ", found " + candidates);
        }
        if (kind == StageKind.UPSAMPLER && candidates != 1) {
            throw d.error("candidates", "is for the prior and the decoder; an upsampler samples one image per input");
        }
        return new DiffusionSpec(schedule, timesteps, prediction, variance, clip, sampler, respacing, eta, guidance,
                candidates);
    }

    /** What is wrong with a manifest's respacing, in the one grammar requests use too; null when nothing. */
    static String respacingProblem(String respacing, int timesteps) {
        try {
            io.unclip.engine.diffusion.Respacing.parse(respacing, timesteps);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }


    private static Resolution resolution(JsonFields r) {
        Resolution res = new Resolution(r.optionalInteger("input", 1), r.optionalInteger("output", 1),
                r.optionalInteger("scale", 1));
        if (res.input().isPresent() && res.output().isPresent() && res.scale().isPresent()
                && (long) res.input().getAsInt() * res.scale().getAsInt() != res.output().getAsInt()) {
            throw r.error("output", "is " + res.output().getAsInt() + ", but input " + res.input().getAsInt()
                    + " x scale " + res.scale().getAsInt() + " = "
                    + (long) res.input().getAsInt() * res.scale().getAsInt());
        }
        return res;
    }

    private static void requireResolution(JsonFields m, StageKind kind, Optional<Resolution> resolution) {
        List<String> needed = switch (kind) {
            case DECODER -> List.of("output");
            case UPSAMPLER -> List.of("input", "output", "scale");
            case CAPTIONER, IMAGE_ENCODER, CLASSIFIER -> List.of("input");
            default -> List.of();
        };
        for (String field : needed) {
            boolean present = resolution.map(r -> switch (field) {
                case "input" -> r.input().isPresent();
                case "output" -> r.output().isPresent();
                default -> r.scale().isPresent();
            }).orElse(false);
            if (!present) {
                throw new ModelRepositoryException(m.file(), m.source() + ": required field 'resolution." + field
                        + "' is missing (" + a(kind) + " needs resolution " + String.join(", ", needed) + ")");
            }
        }
    }

    private static Conditioning conditioning(JsonFields c) {
        return new Conditioning(c.optionalInteger("embedding_dim", 1), c.optionalInteger("text_tokens", 1),
                c.optionalInteger("text_hidden_dim", 1));
    }

    /** Inline {"mean": [...], "std": [...]} or the name of a JSON file holding the same. */
    private Normalization normalization(Path dir, JsonFields m) {
        JsonNode raw = m.raw("normalization");
        JsonFields n;
        if (raw.isTextual()) {
            Path file = stageFile(dir, m, "normalization", raw.asText());
            n = parse(file, m.source().replace("manifest.json", raw.asText()));
        } else {
            n = m.object("normalization");
        }
        float[] mean = n.floats("mean");
        float[] std = n.floats("std");
        if (mean.length == 0 || mean.length != std.length) {
            throw n.error("std", "has " + std.length + " values, 'mean' has " + mean.length
                    + " (both must have the embedding dimension)");
        }
        for (int i = 0; i < std.length; i++) {
            if (!(std[i] > 0) || !Float.isFinite(std[i]) || !Float.isFinite(mean[i])) {
                throw n.error("std", "has " + std[i] + " at index " + i + " (mean " + mean[i]
                        + "); std must be positive and both finite");
            }
        }
        return new Normalization(mean, std);
    }

    /** "a decoder", "an upsampler", "an image_encoder". */
    static String a(StageKind kind) {
        return ("aeiou".indexOf(kind.id().charAt(0)) >= 0 ? "an " : "a ") + kind.id();
    }

    private static List<String> concat(Set<String> a, Set<String> b) {
        List<String> all = new ArrayList<>(a.stream().sorted().toList());
        all.addAll(b.stream().sorted().toList());
        return all;
    }
}
