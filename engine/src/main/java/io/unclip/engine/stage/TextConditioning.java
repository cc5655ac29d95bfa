package io.unclip.engine.stage;

import io.unclip.engine.tensor.Tensor;
import java.util.Arrays;

/**
 * The text encoder's output for a batch of texts, one row per text: what the prior and the
 * decoder are conditioned on. Immutable (tensors are never written after construction).
 *
 * <p>{@link #gather} and {@link #concat} lay rows out for a model call, e.g. the prior's
 * [cond rows; uncond rows] batch.
 */
public final class TextConditioning {
    private final Tensor textEmbeds;
    private final Tensor hiddenStates;
    private final long[] ids;
    private final long[] mask;
    private final int length;
    private final boolean[] truncated;

    /**
     * @param textEmbeds   pooled embedding {@code [B, D]}
     * @param hiddenStates per-token features {@code [B, L, H]}, or null when the encoder has none
     * @param ids          token ids, B x L row-major
     * @param mask         attention mask (1 token, 0 padding), B x L row-major
     * @param length       L, the context length
     * @param truncated    per row, whether the text was cut to fit L
     */
    public TextConditioning(Tensor textEmbeds, Tensor hiddenStates, long[] ids, long[] mask, int length,
                            boolean[] truncated) {
        int rows = (int) textEmbeds.dim(0);
        if (ids.length != rows * length || mask.length != rows * length || truncated.length != rows
                || (hiddenStates != null && hiddenStates.dim(0) != rows)) {
            throw new IllegalArgumentException("text conditioning rows disagree: embeds " + textEmbeds
                    + ", hidden " + hiddenStates + ", " + ids.length + " ids, " + mask.length + " mask values, length "
                    + length);
        }
        this.textEmbeds = textEmbeds;
        this.hiddenStates = hiddenStates;
        this.ids = ids.clone();
        this.mask = mask.clone();
        this.length = length;
        this.truncated = truncated.clone();
    }

    public int rows() {
        return (int) textEmbeds.dim(0);
    }

    /** Context length L. */
    public int length() {
        return length;
    }

    /** {@code [B, D]}. */
    public Tensor textEmbeds() {
        return textEmbeds;
    }

    /** {@code [B, L, H]}, or null when the text encoder has no last_hidden_state output. */
    public Tensor hiddenStates() {
        return hiddenStates;
    }

    public long[] ids() {
        return ids.clone();
    }

    public long[] mask() {
        return mask.clone();
    }

    /** {@code [B, L]} */
    public long[] tokenShape() {
        return new long[] {rows(), length};
    }

    public boolean truncated(int row) {
        return truncated[row];
    }

    /** Row {@code row}'s pooled embedding. */
    public float[] embedding(int row) {
        int d = (int) textEmbeds.dim(1);
        float[] out = new float[d];
        textEmbeds.buffer().get(row * d, out);
        return out;
    }

    /** A new conditioning whose row i is this one's row {@code rows[i]} (rows may repeat). */
    public TextConditioning gather(int... rows) {
        int n = rows.length;
        long[] newIds = new long[n * length];
        long[] newMask = new long[n * length];
        boolean[] newTrunc = new boolean[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(ids, rows[i] * length, newIds, i * length, length);
            System.arraycopy(mask, rows[i] * length, newMask, i * length, length);
            newTrunc[i] = truncated[rows[i]];
        }
        return new TextConditioning(gatherRows(textEmbeds, rows), hiddenStates == null ? null
                : gatherRows(hiddenStates, rows), newIds, newMask, length, newTrunc);
    }

    /** The same rows with other pooled embeddings ({@code [B, D']}, one per row). */
    public TextConditioning withTextEmbeds(Tensor embeds) {
        if (embeds.rank() != 2 || embeds.dim(0) != rows()) {
            throw new IllegalArgumentException("text embeddings " + embeds + " for " + rows() + " rows");
        }
        return new TextConditioning(embeds, hiddenStates, ids, mask, length, truncated);
    }

    /** {@code n} copies of row {@code row}. */
    public TextConditioning repeat(int row, int n) {
        int[] rows = new int[n];
        Arrays.fill(rows, row);
        return gather(rows);
    }

    /** This conditioning's rows followed by {@code other}'s. */
    public TextConditioning concat(TextConditioning other) {
        if (other.length != length || (hiddenStates == null) != (other.hiddenStates == null)) {
            throw new IllegalArgumentException("cannot concatenate text conditionings of different shapes");
        }
        long[] newIds = Arrays.copyOf(ids, ids.length + other.ids.length);
        System.arraycopy(other.ids, 0, newIds, ids.length, other.ids.length);
        long[] newMask = Arrays.copyOf(mask, mask.length + other.mask.length);
        System.arraycopy(other.mask, 0, newMask, mask.length, other.mask.length);
        boolean[] newTrunc = Arrays.copyOf(truncated, truncated.length + other.truncated.length);
        System.arraycopy(other.truncated, 0, newTrunc, truncated.length, other.truncated.length);
        return new TextConditioning(Tensors.concatRows(textEmbeds, other.textEmbeds), hiddenStates == null ? null
                : Tensors.concatRows(hiddenStates, other.hiddenStates), newIds, newMask, length, newTrunc);
    }

    static Tensor gatherRows(Tensor t, int[] rows) {
        long[] shape = t.shape();
        int item = t.itemSize();
        shape[0] = rows.length;
        Tensor out = Tensor.zeros(shape);
        float[] buf = new float[item];
        for (int i = 0; i < rows.length; i++) {
            t.buffer().get(rows[i] * item, buf);
            out.buffer().put(i * item, buf);
        }
        return out;
    }

    @Override
    public String toString() {
        return "TextConditioning[" + rows() + " rows, embeds " + textEmbeds + ", hidden " + hiddenStates + "]";
    }
}
