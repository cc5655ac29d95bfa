package io.unclip.engine.text;

import java.util.List;

/**
 * Several texts as one row-major {@code [batch, length]} block of ids and mask, ready to feed a
 * model's int64 inputs.
 */
public record EncodedBatch(List<EncodedText> items, int length) {

    public EncodedBatch {
        items = List.copyOf(items);
    }

    public int batchSize() {
        return items.size();
    }

    /** {@code [batch, length]}. */
    public long[] shape() {
        return new long[] {items.size(), length};
    }

    public long[] ids() {
        long[] out = new long[items.size() * length];
        for (int i = 0; i < items.size(); i++) {
            System.arraycopy(items.get(i).ids(), 0, out, i * length, length);
        }
        return out;
    }

    public long[] attentionMask() {
        long[] out = new long[items.size() * length];
        for (int i = 0; i < items.size(); i++) {
            System.arraycopy(items.get(i).attentionMask(), 0, out, i * length, length);
        }
        return out;
    }

    /** Whether any text was cut to fit. */
    public boolean anyTruncated() {
        return items.stream().anyMatch(EncodedText::truncated);
    }
}
