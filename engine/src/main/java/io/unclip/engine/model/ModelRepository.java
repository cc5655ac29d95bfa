package io.unclip.engine.model;

import io.unclip.engine.onnx.InferenceException;
import io.unclip.engine.onnx.ModelLoadException;
import io.unclip.engine.onnx.ModelSession;
import io.unclip.engine.onnx.OrtRuntime;
import io.unclip.engine.text.TextTokenizer;
import io.unclip.engine.text.TokenizerException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Loads model bundles: a directory with {@code bundle.json} and one subdirectory per stage, each
 * with {@code manifest.json}, its ONNX file and optionally a tokenizer (format: engine/MANIFEST.md).
 *
 * <p>Loading validates everything before anything runs: the JSON, the allowed values, the files
 * the manifest names, and the ONNX session's real inputs and outputs against the manifest. Every
 * failure is a {@link ModelRepositoryException} whose message starts with the file at fault.
 */
public final class ModelRepository {
    private final OrtRuntime runtime;
    private final ManifestReader reader = new ManifestReader();

    /** @param runtime creates (and later closes) the sessions of loaded stages */
    public ModelRepository(OrtRuntime runtime) {
        this.runtime = runtime;
    }

    /** Reads and validates bundle.json only. */
    public BundleManifest readBundle(Path bundleDir) {
        return reader.readBundle(bundleDir);
    }

    /** Reads and validates one stage's manifest without loading its model. */
    public StageManifest readStage(Path bundleDir, String stage) {
        return reader.readStage(bundleDir, stage);
    }

    /** Loads every stage listed in bundle.json. */
    public ModelBundle load(Path bundleDir) {
        BundleManifest bundle = reader.readBundle(bundleDir);
        List<LoadedStage> stages = new ArrayList<>();
        try {
            for (String stage : bundle.stages()) {
                stages.add(loadStage(bundleDir, stage));
            }
        } catch (RuntimeException e) {
            stages.forEach(LoadedStage::close);
            throw e;
        }
        return new ModelBundle(bundle, stages);
    }

    /** Loads one stage of a bundle (a stage service needs only its own). */
    public LoadedStage loadStage(Path bundleDir, String stage) {
        StageManifest manifest = reader.readStage(bundleDir, stage);
        ModelSession session = checkedSession(manifest, stage, manifest.onnxFile());
        ModelSession lastStep = manifest.lastStepOnnx().isEmpty() ? null
                : checkedSession(manifest, stage + " (last step)", manifest.lastStepOnnx().get());
        String source = stage + "/manifest.json";
        TextTokenizer tokenizer = null;
        if (manifest.tokenizer().isPresent()) {
            Path file = manifest.tokenizer().get();
            try {
                tokenizer = TextTokenizer.load(file, manifest.conditioning().textTokens().getAsInt(),
                        manifest.padToken());
            } catch (TokenizerException e) {
                throw new ModelRepositoryException(file, stage + "/" + file.getFileName() + ": "
                        + stripName(e.getMessage(), file.toString()), e);
            }
        }
        for (var style : manifest.captionStyles().entrySet()) {
            if (tokenizer != null && tokenizer.tokenId(style.getValue()).isEmpty()) {
                tokenizer.close();
                throw new ModelRepositoryException(manifest.dir().resolve("manifest.json"), source
                        + ": field 'caption_styles." + style.getKey() + "' names token '" + style.getValue()
                        + "', which " + manifest.tokenizer().get().getFileName() + " does not have");
            }
        }
        return new LoadedStage(manifest, session, lastStep, tokenizer);
    }

    /**
     * The session of one of the stage's graphs, checked against the manifest's tensors (both
     * graphs of a stage with last_step_onnx have the same contract, as super_res_first and
     * super_res_last do).
     */
    private ModelSession checkedSession(StageManifest manifest, String name, Path onnxFile) {
        String stage = manifest.stage();
        boolean shared = runtime.isOpen(onnxFile);
        ModelSession session;
        try {
            session = runtime.session(name, onnxFile);
        } catch (ModelLoadException e) {
            throw new ModelRepositoryException(onnxFile, stage + "/" + onnxFile.getFileName()
                    + ": cannot load ONNX model: " + e.reason(), e);
        } catch (InferenceException e) {
            throw new ModelRepositoryException(onnxFile, stage + "/" + onnxFile.getFileName()
                    + ": " + e.getMessage(), e);
        }
        List<String> problems = ContractCheck.check(manifest, session, onnxFile);
        if (!problems.isEmpty()) {
            if (!shared) {
                runtime.release(session); // a corrected file at the same path must be read again
            }
            throw new ModelRepositoryException(manifest.dir().resolve("manifest.json"), problems.stream()
                    .map(p -> stage + "/manifest.json: " + p).collect(Collectors.joining("; ")));
        }
        return session;
    }

    /** Drops a leading "name: " that the lower layer already put in its message. */
    private static String stripName(String message, String name) {
        String prefix = name + ": ";
        return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
    }
}
