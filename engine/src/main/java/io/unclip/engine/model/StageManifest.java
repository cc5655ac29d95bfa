package io.unclip.engine.model;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed and validated {@code manifest.json} of one stage model. Paths are resolved against the
 * stage directory. See engine/MANIFEST.md for the JSON format.
 *
 * @param stage         stage name (its directory name in the bundle)
 * @param dir           the stage directory
 * @param kind          what the model does
 * @param onnxFile      the ONNX graph
 * @param externalData  ONNX external-data files (weights stored beside the graph), maybe none
 * @param inputs        declared inputs, in manifest order
 * @param outputs       declared outputs, in manifest order
 * @param diffusion     present exactly for prior, decoder and upsampler
 * @param resolution    image sizes, where the stage handles images
 * @param normalization embedding statistics, where the stage needs them
 * @param conditioning  conditioning sizes
 * @param tokenizer     tokenizer.json of text encoder and captioner stages
 * @param lowresResize  upsamplers: how the low-resolution image is resized to the output size
 *                      before it is concatenated to the noisy sample ({@link #LOWRES_RESIZES});
 *                      empty for other kinds (an upsampler without the field gets "bilinear")
 * @param captionStyles captioners: caption style name to the prefix token that selects it, in
 *                      manifest order (the first is the default style); empty for other kinds
 * @param unconditional learned unconditional inputs of classifier-free guidance, by role (empty:
 *                      zeros for image embeddings, the empty prompt for text)
 * @param lastStepOnnx  upsamplers: the graph for the final denoising step (diffusers'
 *                      super_res_last); empty = {@code onnxFile} for every step
 * @param clampOutput   decoders and upsamplers: the sampled image is clamped to [-1, 1]
 * @param lowresAntialias upsamplers: the low-resolution image is resized as torch's
 *                      {@code antialias=True} (bilinear and bicubic only)
 * @param padToken      text stages: the token that pads ids to the context length, overriding the
 *                      tokenizer's own padding (needed when tokenizer.json has none, as CLIP's)
 */
public record StageManifest(String stage, Path dir, StageKind kind, Path onnxFile, List<Path> externalData,
                            List<TensorDecl> inputs, List<TensorDecl> outputs,
                            Optional<DiffusionSpec> diffusion, Optional<Resolution> resolution,
                            Optional<Normalization> normalization, Conditioning conditioning,
                            Optional<Path> tokenizer, Optional<String> lowresResize,
                            Map<String, String> captionStyles, Map<String, UnconditionalInput> unconditional,
                            Optional<Path> lastStepOnnx, boolean clampOutput, boolean lowresAntialias,
                            Optional<String> padToken) {

    /** Values of {@code lowres_resize}: torch F.interpolate modes (align_corners=False, no antialias). */
    public static final List<String> LOWRES_RESIZES = List.of("bilinear", "bicubic", "nearest");

    public StageManifest {
        externalData = List.copyOf(externalData);
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        lowresResize = lowresResize == null ? Optional.empty() : lowresResize;
        captionStyles = captionStyles == null ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(captionStyles));
        unconditional = unconditional == null ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(unconditional));
        lastStepOnnx = lastStepOnnx == null ? Optional.empty() : lastStepOnnx;
        padToken = padToken == null ? Optional.empty() : padToken;
    }

    /** A manifest without the upsampler, captioner and learned-unconditional fields. */
    public StageManifest(String stage, Path dir, StageKind kind, Path onnxFile, List<Path> externalData,
                         List<TensorDecl> inputs, List<TensorDecl> outputs,
                         Optional<DiffusionSpec> diffusion, Optional<Resolution> resolution,
                         Optional<Normalization> normalization, Conditioning conditioning,
                         Optional<Path> tokenizer) {
        this(stage, dir, kind, onnxFile, externalData, inputs, outputs, diffusion, resolution, normalization,
                conditioning, tokenizer, Optional.empty(), Map.of(), Map.of(), Optional.empty(), false, false,
                Optional.empty());
    }

    /** The learned unconditional value of an input role, if the manifest gives one. */
    public Optional<UnconditionalInput> unconditionalFor(String role) {
        return Optional.ofNullable(unconditional.get(role));
    }

    /** The input with the given role (e.g. "sample", "timestep"), if declared. */
    public Optional<TensorDecl> inputForRole(String role) {
        return inputs.stream().filter(t -> role.equals(t.role())).findFirst();
    }

    /** The output with the given role (e.g. "prediction"), if declared. */
    public Optional<TensorDecl> outputForRole(String role) {
        return outputs.stream().filter(t -> role.equals(t.role())).findFirst();
    }

    /** Name of the input with the given role; fails if the manifest has none. */
    public String inputName(String role) {
        return inputForRole(role).map(TensorDecl::name).orElseThrow(() -> new IllegalArgumentException(
                stage + ": manifest declares no input with role '" + role + "'"));
    }

    /** Name of the output with the given role; fails if the manifest has none. */
    public String outputName(String role) {
        return outputForRole(role).map(TensorDecl::name).orElseThrow(() -> new IllegalArgumentException(
                stage + ": manifest declares no output with role '" + role + "'"));
    }
}
