package io.unclip.engine.stage;

import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.schedule.CallBatcher;
import io.unclip.engine.tensor.Tensor;
import io.unclip.engine.text.EncodedBatch;
import io.unclip.engine.text.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Text encoder stage: prompts to token ids (the manifest's tokenizer, padded to its context
 * length) to {@code text_embeds} and {@code last_hidden_state}. Requests that arrive together
 * share one model call ({@link CallBatcher}); each row's output is its own, whatever else is in
 * the call.
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
    private final CallBatcher<List<String>, TextConditioning> batcher;
    private volatile TextConditioning empty;

    public TextEncoderStage(LoadedStage stage) {
        this(stage, Scheduling.DEFAULT);
    }

    /** With its batcher configured (max rows per call, queue size, where it reports). */
    public TextEncoderStage(LoadedStage stage, Scheduling scheduling) {
        if (stage.kind() != StageKind.TEXT_ENCODER) {
            throw new IllegalArgumentException(stage.name() + " is a " + stage.kind().id() + ", not a text_encoder");
        }
        this.stage = stage;
        this.manifest = stage.manifest();
        this.tokenizer = stage.tokenizer().orElseThrow();
        this.embedsName = manifest.outputName("text_embeds");
        this.hiddenName = manifest.outputForRole("last_hidden_state").map(t -> t.name()).orElse(null);
        this.batcher = new CallBatcher<>(stage.name(), this::encodeTogether, List::size, scheduling.config(),
                scheduling.observer());
    }

    /** What batches this stage's calls. */
    public CallBatcher<List<String>, TextConditioning> batcher() {
        return batcher;
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

    /**
     * Encodes the prompts in one model call, shared with whatever other requests wait for this
     * stage then (no vocabulary check; see {@link #checkPrompt}).
     *
     * @throws io.unclip.engine.schedule.QueueFullException when the batcher's queue is full
     */
    public TextConditioning encode(List<String> prompts, RunContext ctx) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts to encode");
        }
        StageRun run = StageRun.start(stage, 0, ctx, 1, prompts.size());
        run.checkCancelled(0, 1);
        TextConditioning out = batcher.call(List.copyOf(prompts));
        run.countCalls(1);
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
                    e = encodeTogether(List.of(List.of(""))).get(0);
                    empty = e;
                }
            }
        }
        return e;
    }

    /** One batched call for several requests' prompts, in chunks of {@link FixedCallRows#ROWS}; each gets its rows. */
    private List<TextConditioning> encodeTogether(List<List<String>> requests) {
        List<String> all = new ArrayList<>();
        requests.forEach(all::addAll);
        TextConditioning[] joined = new TextConditioning[1];
        FixedCallRows.forEachChunk(all.size(), (rows, real) -> {
            List<String> chunk = new ArrayList<>(rows.length);
            for (int r : rows) {
                chunk.add(all.get(r));
            }
            TextConditioning c = run(chunk).gather(IntStream.range(0, real).toArray());
            joined[0] = joined[0] == null ? c : joined[0].concat(c);
        });
        TextConditioning out = joined[0];
        if (requests.size() == 1) {
            return List.of(out);
        }
        List<TextConditioning> each = new ArrayList<>(requests.size());
        int from = 0;
        for (List<String> r : requests) {
            each.add(out.gather(IntStream.range(from, from + r.size()).toArray()));
            from += r.size();
        }
        return each;
    }

    private TextConditioning run(List<String> prompts) {
        EncodedBatch batch = tokenizer.encodeBatch(prompts);
        long[] shape = batch.shape();
        long[] ids = batch.ids();
        long[] mask = batch.attentionMask();
        ModelInputs in = ModelInputs.create();
        StageRun.putIntegers(in, manifest, "input_ids", ids, shape);
        if (StageRun.has(manifest, "attention_mask")) {
            StageRun.putIntegers(in, manifest, "attention_mask", mask, shape);
        }
        Map<String, Tensor> out = stage.session().run(in);
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
