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
    private final ModelSession lastStepSession;

    LoadedStage(StageManifest manifest, ModelSession session, TextTokenizer tokenizer) {
        this(manifest, session, null, tokenizer);
    }

    LoadedStage(StageManifest manifest, ModelSession session, ModelSession lastStepSession, TextTokenizer tokenizer) {
        this.manifest = manifest;
        this.session = session;
        this.lastStepSession = lastStepSession;
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

    /**
     * The session of the manifest's {@code last_step_onnx} (diffusers' super_res_last), which runs
     * the final denoising step; empty when one graph runs every step.
     */
    public Optional<ModelSession> lastStepSession() {
        return Optional.ofNullable(lastStepSession);
    }

    /** Time spent inside ONNX Runtime by this stage's sessions. */
    public long ortNanos() {
        return session.ortNanos() + (lastStepSession == null ? 0 : lastStepSession.ortNanos());
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
