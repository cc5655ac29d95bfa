package io.unclip.engine.stage;

/**
 * A decoded caption.
 *
 * @param text     the caption (special tokens left out)
 * @param tokenIds the generated tokens, without the BOS/style prefix and without EOS
 * @param logprobs natural-log probability of each generated token under the captioner
 * @param style    the style the caption was asked in
 * @param finished whether decoding stopped at EOS (false: the token budget ran out)
 */
public record Caption(String text, long[] tokenIds, float[] logprobs, String style, boolean finished) {
}
