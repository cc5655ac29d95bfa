package io.unclip.engine.stage;

/**
 * One greedily decoded caption token, streamed as soon as it is chosen.
 *
 * @param imageIndex which image of the batch
 * @param index      0-based position in the caption
 * @param id         token id
 * @param text       the text the token adds to the caption, with any leading space (" red")
 * @param logprob    natural-log probability of the token
 */
public record CaptionToken(int imageIndex, int index, long id, String text, float logprob) {
}
