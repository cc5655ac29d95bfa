package io.unclip.prior;

import io.unclip.api.v1.PriorRequest;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.stage.ImageRequestValidator;
import io.unclip.service.validate.Checks;

/**
 * Checks a {@link PriorRequest} against the contract (stages.proto) before any model work.
 * Plain Java: no framework, no model. Checks against the loaded model's manifest (embedding
 * width, sequence length, respacing vs. schedule) are added when the model is.
 */
public final class PriorRequestValidator {

    /** A request that passed validation, with defaults applied. */
    public record Valid(PriorRequest request, int numImages, int steps, Checks.TextShape text) {
    }

    /** @throws InvalidRequestException naming the first offending field */
    public Valid validate(PriorRequest r) {
        Checks.TextShape text = Checks.textConditioning("text", r.getText(), r.hasText());
        if (r.hasUnconditional()) {
            Checks.sameShape("unconditional", text, Checks.textConditioning("unconditional", r.getUnconditional(), true));
        }
        int n = Checks.numImages("num_images", r.getNumImages());
        int steps = ImageRequestValidator.samplerParams("params", r.getParams(), r.hasParams());
        Checks.optionalId("job_id", r.getJobId());
        return new Valid(r, n, steps, text);
    }

}
