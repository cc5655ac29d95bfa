package io.unclip.engine.stage;

import io.unclip.engine.model.StageManifest;
import io.unclip.engine.model.UnconditionalInput;
import io.unclip.engine.tensor.Tensor;

/**
 * What classifier-free guidance feeds the unconditional rows: the manifest's learned value of a
 * role ({@code unconditional}, e.g. Karlo's learned image embedding) where it has one, else the
 * engine's defaults (zeros for image embeddings, the empty prompt for text).
 */
final class LearnedUnconditional {
    private LearnedUnconditional() {
    }

    /** {@code rows} unconditional image embeddings of width {@code width}. */
    static Tensor imageEmbeds(StageManifest m, int rows, int width) {
        Tensor out = Tensor.zeros(rows, width);
        m.unconditionalFor("image_embeds").ifPresent(u -> fill(m, u, out, rows, width));
        return out;
    }

    /** The empty prompt's conditioning with the learned text embedding in place of its own, if any. */
    static TextConditioning text(StageManifest m, TextConditioning emptyPrompt) {
        UnconditionalInput u = m.unconditionalFor("text_embeds").orElse(null);
        if (u == null) {
            return emptyPrompt;
        }
        int rows = emptyPrompt.rows();
        int width = (int) emptyPrompt.textEmbeds().dim(1);
        Tensor embeds = Tensor.zeros(rows, width);
        fill(m, u, embeds, rows, width);
        return emptyPrompt.withTextEmbeds(embeds);
    }

    private static void fill(StageManifest m, UnconditionalInput u, Tensor out, int rows, int width) {
        if (u.width() != width) {
            throw new IllegalArgumentException(m.stage() + ": the learned unconditional " + u.role() + " ("
                    + u.file().getFileName() + ") has " + u.width() + " values, the rows it stands for have " + width);
        }
        float[] row = u.values();
        for (int r = 0; r < rows; r++) {
            out.buffer().put(r * width, row);
        }
    }

    /** Clamps an image sample to [-1, 1] in place when the manifest says clamp_output. */
    static Tensor clampIfAsked(StageManifest m, Tensor sample) {
        if (m.clampOutput()) {
            for (int i = 0; i < sample.size(); i++) {
                sample.set(i, Math.max(-1f, Math.min(1f, sample.get(i))));
            }
        }
        return sample;
    }
}
