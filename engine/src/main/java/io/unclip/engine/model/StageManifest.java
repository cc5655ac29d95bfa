package io.unclip.engine.model;

import java.nio.file.Path;
import java.util.List;
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
 */
public record StageManifest(String stage, Path dir, StageKind kind, Path onnxFile, List<Path> externalData,
                            List<TensorDecl> inputs, List<TensorDecl> outputs,
                            Optional<DiffusionSpec> diffusion, Optional<Resolution> resolution,
                            Optional<Normalization> normalization, Conditioning conditioning,
                            Optional<Path> tokenizer) {

    public StageManifest {
        externalData = List.copyOf(externalData);
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
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
