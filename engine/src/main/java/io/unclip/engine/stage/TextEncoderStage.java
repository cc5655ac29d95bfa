package io.unclip.engine.stage;

import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.tensor.Tensor;
import io.unclip.engine.text.EncodedBatch;
import io.unclip.engine.text.TextTokenizer;
import java.util.List;
import java.util.Map;

/**
 * Text encoder stage: prompts to token ids (the manifest's tokenizer, padded to its context
 * length) to {@code text_embeds} and {@code last_hidden_state}, in one model call per batch.
 *
 * <p>The unconditional branch of classifier-free guidance everywhere in the cascade is this
 * stage's output for the empty prompt "" (only the tokenizer's special tokens, e.g. BOS EOS),
 * computed once and cached ({@link #emptyPrompt()}). Thread-safe.
 */
public final class TextEncoderStage {
    private final LoadedStage stage;
    private final StageManifest manifest;
    private final TextTokenizer tokenizer;
    private final String embedsName;
    private final String hiddenName;
    private volatile TextConditioning empty;

    public TextEncoderStage(LoadedStage stage) {
        if (stage.kind() != StageKind.TEXT_ENCODER) {
            throw new IllegalArgumentException(stage.name() + " is a " + stage.kind().id() + ", not a text_encoder");
        }
        this.stage = stage;
        this.manifest = stage.manifest();
        this.tokenizer = stage.tokenizer().orElseThrow();
        this.embedsName = manifest.outputName("text_embeds");
        this.hiddenName = manifest.outputForRole("last_hidden_state").map(t -> t.name()).orElse(null);
    }

    public LoadedStage stage() {
        return stage;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    /** Context length (tokens per text). */
    public int contextLength() {
        return tokenizer.contextLength();
    }

    /** Whether the encoder produces per-token features (last_hidden_state). */
    public boolean hasHiddenStates() {
        return hiddenName != null;
    }

    /**
     * Checks a prompt against the tokenizer's closed vocabulary.
     *
     * @throws InvalidRequestException naming the words the vocabulary lacks
     */
    public void checkPrompt(String field, String prompt) {
        List<String> unknown = tokenizer.unknownWords(prompt);
        if (!unknown.isEmpty()) {
            throw new InvalidRequestException(field, "uses " + (unknown.size() == 1 ? "a word" : "words")
                    + " outside the model's vocabulary: " + String.join(", ", unknown.stream()
                    .map(w -> "'" + w + "'").toList()));
        }
    }

    /** Encodes the prompts in one model call (no vocabulary check; see {@link #checkPrompt}). */
    public TextConditioning encode(List<String> prompts, RunContext ctx) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts to encode");
        }
        StageRun run = StageRun.start(stage, 0, ctx, 1, prompts.size());
        run.checkCancelled(0, 1);
        TextConditioning out = run(prompts, run);
        run.progress(1, 1, null);
        run.finish(1);
        return out;
    }

    /** The encoding of the empty prompt "": the unconditional text of classifier-free guidance. */
    public TextConditioning emptyPrompt() {
        TextConditioning e = empty;
        if (e == null) {
            synchronized (this) {
                e = empty;
                if (e == null) {
                    e = run(List.of(""), null);
                    empty = e;
                }
            }
        }
        return e;
    }

    private TextConditioning run(List<String> prompts, StageRun run) {
        EncodedBatch batch = tokenizer.encodeBatch(prompts);
        long[] shape = batch.shape();
        long[] ids = batch.ids();
        long[] mask = batch.attentionMask();
        ModelInputs in = ModelInputs.create();
        StageRun.putIntegers(in, manifest, "input_ids", ids, shape);
        if (StageRun.has(manifest, "attention_mask")) {
            StageRun.putIntegers(in, manifest, "attention_mask", mask, shape);
        }
        Map<String, Tensor> out = run == null ? stage.session().run(in) : run.call(in);
        boolean[] truncated = new boolean[prompts.size()];
        for (int i = 0; i < truncated.length; i++) {
            truncated[i] = batch.items().get(i).truncated();
        }
        String hint = "the model is probably broken (no prompt should do this)";
        Finite.output(out.get(embedsName), "text encoder", "prompts", hint);
        Finite.output(hiddenName == null ? null : out.get(hiddenName), "text encoder", "prompts", hint);
        return new TextConditioning(out.get(embedsName), hiddenName == null ? null : out.get(hiddenName), ids, mask,
                tokenizer.contextLength(), truncated);
    }
}
