package io.unclip.engine.stage;

import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.schedule.CallBatcher;
import io.unclip.engine.tensor.Tensor;
import io.unclip.engine.text.EncodedText;
import io.unclip.engine.text.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Captioner stage: image to caption, by greedy autoregressive decoding of the model's
 * {@code logits} output (DALL-E 3's descriptive captioner, in small).
 *
 * <p>Contract: the model sees the image and a fixed-length id sequence padded with the
 * tokenizer's pad id (plus {@code attention_mask}, 1 on the prefix, if it has one), and
 * {@code logits[b, i, :]} scores the token at position i + 1 given the tokens up to i. Decoding
 * starts from {@code [BOS, style token]} (the manifest's {@code caption_styles} maps a style name
 * to its token; the first is the default; without the field there is no style token), appends
 * the most likely token that is not padding, BOS, unknown or a style token, and stops at EOS, at
 * the token budget or at the context length. All images of a request decode together, one
 * model call per token, and the token calls of all requests in flight share one model call
 * ({@link CallBatcher}): captions at different positions sit in one batch, each row reading the
 * logits at its own position, which the causal contract makes independent of the other rows and
 * of the padding after it. Images of any size are centre-cropped to a square and resized to the
 * manifest's input resolution (area when shrinking, bilinear when enlarging). Thread-safe.
 */
public final class CaptionerStage {
    private final LoadedStage stage;
    private final StageManifest manifest;
    private final TextTokenizer tokenizer;
    private final String logitsName;
    private final int inputSize;
    private final long bos;
    private final long eos;
    private final Map<String, Long> styles = new LinkedHashMap<>();
    private final Set<Long> banned = new HashSet<>();
    private final CallBatcher<TokenStep, Tensor> batcher;

    /** One request's next token: its images, ids and mask ({@code rows} x context length). */
    private record TokenStep(Tensor image, long[] ids, long[] mask, int rows) {
    }

    public CaptionerStage(LoadedStage stage) {
        this(stage, Scheduling.DEFAULT);
    }

    /** With its batcher configured (max rows per call, queue size, where it reports). */
    public CaptionerStage(LoadedStage stage, Scheduling scheduling) {
        if (stage.kind() != StageKind.CAPTIONER) {
            throw new IllegalArgumentException(stage.name() + " is a " + stage.kind().id() + ", not a captioner");
        }
        this.stage = stage;
        this.manifest = stage.manifest();
        this.tokenizer = stage.tokenizer().orElseThrow();
        this.logitsName = manifest.outputName("logits");
        this.inputSize = manifest.resolution().orElseThrow().input().getAsInt();
        EncodedText empty = tokenizer.encode("");
        long[] ids = empty.ids();
        if (empty.tokenCount() < 2) {
            throw new IllegalArgumentException(stage.name() + ": the tokenizer must add BOS and EOS tokens (encoding"
                    + " \"\" gives " + empty.tokenCount() + " tokens)");
        }
        this.bos = ids[0];
        this.eos = ids[empty.tokenCount() - 1];
        manifest.captionStyles().forEach((name, token) -> styles.put(name, tokenizer.tokenId(token).orElseThrow(
                () -> new IllegalArgumentException(stage.name() + ": caption style token '" + token
                        + "' is not in the tokenizer"))));
        if (tokenizer.padId() != eos) { // GPT-2 and CLIP style tokenizers pad with EOS: it must stay choosable
            banned.add(tokenizer.padId());
        }
        banned.add(bos);
        banned.addAll(styles.values());
        for (String unk : List.of("[UNK]", "<unk>", "<UNK>", "<|unk|>")) {
            tokenizer.tokenId(unk).ifPresent(banned::add);
        }
        this.batcher = new CallBatcher<>(stage.name(), this::nextTokens, TokenStep::rows, scheduling.config(),
                scheduling.observer());
    }

    /** What batches this stage's token calls. */
    public CallBatcher<?, ?> batcher() {
        return batcher;
    }

    public LoadedStage stage() {
        return stage;
    }

    /** Style names in manifest order; empty when the captioner has no style tokens. */
    public List<String> styles() {
        return List.copyOf(styles.keySet());
    }

    /** The first style, or "default" when the captioner has none. */
    public String defaultStyle() {
        return styles.isEmpty() ? "default" : styles.keySet().iterator().next();
    }

    /** Most tokens a caption can have: the context length minus the prefix. */
    public int maxTokens() {
        return tokenizer.contextLength() - (styles.isEmpty() ? 1 : 2);
    }

    /**
     * Captions every image of {@code images} ([N, 3, H, W] in [-1, 1]).
     *
     * @param style     a style from {@link #styles()}; null = the default
     * @param maxTokens token budget, 1..{@link #maxTokens()}; 0 = the most
     * @param tokens    receives each token as it is decoded (may be null)
     */
    public List<Caption> caption(Tensor images, String style, int maxTokens, Consumer<CaptionToken> tokens,
                                 RunContext ctx) {
        String s = style == null ? defaultStyle() : style;
        if (!styles.isEmpty() && !styles.containsKey(s)) {
            throw new InvalidRequestException("style", "is '" + style + "', this captioner has " + String.join(", ",
                    styles.keySet()));
        }
        if (styles.isEmpty() && style != null && !style.equals("default")) {
            throw new InvalidRequestException("style", "this captioner has no caption styles");
        }
        int budget = maxTokens == 0 ? maxTokens() : maxTokens;
        if (budget < 1 || budget > maxTokens()) {
            throw new InvalidRequestException("max_tokens", "must be between 1 and " + maxTokens() + ", got "
                    + maxTokens);
        }
        Tensor input = ImageResize.toSize(ImageResize.centerCropSquare(images), inputSize, ImageResize.Mode.BILINEAR);
        int n = (int) input.dim(0);
        int len = tokenizer.contextLength();
        long[] ids = new long[n * len];
        Arrays.fill(ids, tokenizer.padId());
        int prefix = styles.isEmpty() ? 1 : 2;
        for (int r = 0; r < n; r++) {
            ids[r * len] = bos;
            if (prefix == 2) {
                ids[r * len + 1] = styles.get(s);
            }
        }
        List<List<Long>> generated = new ArrayList<>();
        List<List<Float>> logprobs = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            generated.add(new ArrayList<>());
            logprobs.add(new ArrayList<>());
        }
        boolean[] done = new boolean[n];
        StageRun run = StageRun.start(stage, 0, ctx, budget, n);
        int steps = 0;
        for (int k = 0; k < budget; k++) {
            int pos = prefix + k;
            run.checkCancelled(k, budget);
            long[] mask = null;
            if (StageRun.has(manifest, "attention_mask")) {
                mask = new long[n * len];
                for (int r = 0; r < n; r++) {
                    Arrays.fill(mask, r * len, r * len + pos, 1);
                }
            }
            Tensor logits = batcher.call(new TokenStep(input, ids, mask, n)); // returns once ids are read
            run.countCalls(1);
            steps++;
            int vocab = (int) logits.dim(2);
            float[] row = new float[vocab];
            for (int r = 0; r < n; r++) {
                if (done[r]) {
                    continue;
                }
                logits.buffer().get((r * len + pos - 1) * vocab, row);
                int best = -1;
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) {
                    max = Math.max(max, row[v]);
                    if (!banned.contains((long) v) && (best < 0 || row[v] > row[best])) {
                        best = v;
                    }
                }
                double sum = 0;
                for (int v = 0; v < vocab; v++) {
                    sum += Math.exp(row[v] - max);
                }
                float logprob = (float) (row[best] - max - Math.log(sum));
                ids[r * len + pos] = best;
                if (best == eos) {
                    done[r] = true;
                    continue;
                }
                List<Long> g = generated.get(r);
                String before = decode(g);
                g.add((long) best);
                logprobs.get(r).add(logprob);
                if (tokens != null) {
                    tokens.accept(new CaptionToken(r, g.size() - 1, best, decode(g).substring(before.length()),
                            logprob));
                }
            }
            run.progress(k + 1, budget, null);
            if (allDone(done) || pos + 1 >= len) {
                break;
            }
        }
        run.finish(steps);
        List<Caption> out = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            List<Long> g = generated.get(r);
            float[] lp = new float[g.size()];
            for (int i = 0; i < lp.length; i++) {
                lp[i] = logprobs.get(r).get(i);
            }
            out.add(new Caption(decode(g), g.stream().mapToLong(Long::longValue).toArray(), lp, s, done[r]));
        }
        return out;
    }

    /**
     * One batched call for the token steps of several requests, in chunks of
     * {@link FixedCallRows#ROWS} rows; each request gets its own logits rows.
     */
    private List<Tensor> nextTokens(List<TokenStep> steps) {
        int len = tokenizer.contextLength();
        TokenStep all = steps.size() == 1 ? steps.get(0) : concat(steps, len);
        List<Tensor> chunks = new ArrayList<>();
        FixedCallRows.forEachChunk(all.rows(), (rows, real) -> {
            long[] ids = new long[rows.length * len];
            long[] mask = all.mask() == null ? null : new long[rows.length * len];
            for (int i = 0; i < rows.length; i++) {
                System.arraycopy(all.ids(), rows[i] * len, ids, i * len, len);
                if (mask != null) {
                    System.arraycopy(all.mask(), rows[i] * len, mask, i * len, len);
                }
            }
            Tensor image = Tensors.gatherRows(all.image(), rows);
            chunks.add(Tensors.rows(logits(new TokenStep(image, ids, mask, rows.length)), 0, real));
        });
        Tensor logits = chunks.size() == 1 ? chunks.get(0) : Tensors.concatRows(chunks);
        if (steps.size() == 1) {
            return List.of(logits);
        }
        List<Tensor> each = new ArrayList<>(steps.size());
        int at = 0;
        for (TokenStep t : steps) {
            each.add(Tensors.rows(logits, at, t.rows()));
            at += t.rows();
        }
        return each;
    }

    /** The steps' rows one after another. */
    private static TokenStep concat(List<TokenStep> steps, int len) {
        int rows = steps.stream().mapToInt(TokenStep::rows).sum();
        long[] ids = new long[rows * len];
        long[] mask = steps.get(0).mask() == null ? null : new long[rows * len];
        List<Tensor> images = new ArrayList<>(steps.size());
        int at = 0;
        for (TokenStep t : steps) {
            images.add(t.image());
            System.arraycopy(t.ids(), 0, ids, at * len, t.rows() * len);
            if (mask != null) {
                System.arraycopy(t.mask(), 0, mask, at * len, t.rows() * len);
            }
            at += t.rows();
        }
        return new TokenStep(Tensors.concatRows(images), ids, mask, rows);
    }

    private Tensor logits(TokenStep t) {
        ModelInputs in = ModelInputs.create();
        StageRun.put(in, manifest, "image", t.image());
        StageRun.putIntegers(in, manifest, "input_ids", t.ids(), t.rows(), tokenizer.contextLength());
        if (t.mask() != null) {
            StageRun.putIntegers(in, manifest, "attention_mask", t.mask(), t.rows(), tokenizer.contextLength());
        }
        return stage.session().run(in).get(logitsName);
    }

    private String decode(List<Long> ids) {
        return ids.isEmpty() ? "" : tokenizer.decode(ids.stream().mapToLong(Long::longValue).toArray());
    }

    private static boolean allDone(boolean[] done) {
        for (boolean d : done) {
            if (!d) {
                return false;
            }
        }
        return true;
    }
}
