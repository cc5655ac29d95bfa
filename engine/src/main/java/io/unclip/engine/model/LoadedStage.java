package io.unclip.engine.model;

import io.unclip.engine.onnx.ModelSession;
import io.unclip.engine.text.TextTokenizer;
import java.util.Optional;

/**
 * A stage ready to run: its validated manifest, its ONNX session (owned by the
 * {@link io.unclip.engine.onnx.OrtRuntime} that created it) and, for text stages, its tokenizer
 * (owned by this stage: {@link #close()} releases it).
 */
public final class LoadedStage implements AutoCloseable {
    private final StageManifest manifest;
    private final ModelSession session;
    private final TextTokenizer tokenizer;

    LoadedStage(StageManifest manifest, ModelSession session, TextTokenizer tokenizer) {
        this.manifest = manifest;
        this.session = session;
        this.tokenizer = tokenizer;
    }

    public String name() {
        return manifest.stage();
    }

    public StageKind kind() {
        return manifest.kind();
    }

    public StageManifest manifest() {
        return manifest;
    }

    public ModelSession session() {
        return session;
    }

    /** The tokenizer, padding to the manifest's conditioning.text_tokens; present when the manifest names one. */
    public Optional<TextTokenizer> tokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    /** Releases the tokenizer; the session stays open until its runtime is closed. */
    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }

    @Override
    public String toString() {
        return "LoadedStage[" + name() + ", " + kind().id() + ", " + session.device().id() + "]";
    }
}
