package io.unclip.engine.text;

/**
 * One text as fixed-length token ids.
 *
 * @param ids           token ids, padded or truncated to the context length
 * @param attentionMask 1 for real tokens (including special ones), 0 for padding
 * @param tokenCount    number of real tokens after truncation
 * @param truncated     whether the text had more tokens than the context length
 */
public record EncodedText(long[] ids, long[] attentionMask, int tokenCount, boolean truncated) {

    public EncodedText {
        ids = ids.clone();
        attentionMask = attentionMask.clone();
    }

    @Override
    public long[] ids() {
        return ids.clone();
    }

    @Override
    public long[] attentionMask() {
        return attentionMask.clone();
    }

    public int length() {
        return ids.length;
    }
}
