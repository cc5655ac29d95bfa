package io.unclip.engine.model;

import java.util.OptionalInt;

/**
 * Sizes of the conditioning a stage consumes or produces.
 *
 * @param embeddingDim  dimension of CLIP-style text/image embeddings
 * @param textTokens    text context length (token ids are padded or truncated to it)
 * @param textHiddenDim width of per-token text features (last_hidden_state)
 */
public record Conditioning(OptionalInt embeddingDim, OptionalInt textTokens, OptionalInt textHiddenDim) {

    public static Conditioning none() {
        return new Conditioning(OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
    }
}
