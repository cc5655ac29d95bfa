package io.unclip.engine.model;

import java.nio.file.Path;

/**
 * A learned value that classifier-free guidance feeds an input's unconditional rows instead of
 * the default (zeros for image embeddings, the empty prompt's encoding for text), e.g. Karlo's
 * {@code learned_classifier_free_guidance_embeddings}. Read from the manifest's
 * {@code unconditional} section.
 *
 * @param role   the input role it replaces ("image_embeds" or "text_embeds")
 * @param file   the .npy file it was read from
 * @param values one row of the input, {@code [E]}
 */
public record UnconditionalInput(String role, Path file, float[] values) {

    public UnconditionalInput {
        values = values.clone();
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    /** E, the row width. */
    public int width() {
        return values.length;
    }
}
