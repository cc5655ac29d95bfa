package io.unclip.decoder;

import io.unclip.api.v1.DecodeRequest;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.stage.ImageRequestValidator;
import io.unclip.service.validate.Checks;
import io.unclip.service.validate.Limits;

/**
 * Checks a {@link DecodeRequest} against the contract (stages.proto) before any model work.
 * Plain Java: no framework, no model. Checks against the loaded model's manifest (embedding
 * width E, text sequence length, respacing vs. schedule) are added when the model is.
 */
public final class DecodeRequestValidator {

    /** A request that passed validation. {@code text} is null for unconditional text. */
    public record Valid(DecodeRequest request, int batch, long embeddingWidth, Checks.TextShape text, int steps) {
    }

    /** @throws InvalidRequestException naming the first offending field */
    public Valid validate(DecodeRequest r) {
        long[] e = Checks.embeddings("image_embeds", r.getImageEmbeds(), r.hasImageEmbeds(), Limits.MAX_STAGE_BATCH);
        Checks.TextShape text = null;
        if (r.hasText()) {
            text = Checks.textConditioning("text", r.getText(), true);
        }
        if (r.hasUnconditional()) {
            Checks.TextShape u = Checks.textConditioning("unconditional", r.getUnconditional(), true);
            if (text != null) {
                Checks.sameShape("unconditional", text, u);
            }
        }
        int steps = ImageRequestValidator.samplerParams("params", r.getParams(), r.hasParams());
        Checks.previewInterval("preview_interval", r.getPreviewInterval());
        Checks.optionalId("job_id", r.getJobId());
        return new Valid(r, (int) e[0], e[1], text, steps);
    }
}
