package io.unclip.textencoder;

import java.util.List;

import io.unclip.api.v1.EncodeRequest;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.validate.Checks;
import io.unclip.service.validate.Limits;

/**
 * Checks an {@link EncodeRequest} against the contract (stages.proto) before any model work.
 * Plain Java: no framework, no model. The tokenizer's own limit (sequence length) is checked
 * once the model is loaded: prompts longer than it are truncated, as CLIP does.
 */
public final class EncodeRequestValidator {

    /** A request that passed validation. */
    public record Valid(List<String> prompts, boolean includeUnconditional, String jobId) {
    }

    /** @throws InvalidRequestException naming the first offending field */
    public Valid validate(EncodeRequest r) {
        int n = r.getPromptsCount();
        if (n == 0) {
            throw Checks.invalid("prompts", "at least one prompt is required");
        }
        if (n > Limits.MAX_ENCODE_PROMPTS) {
            throw Checks.invalid("prompts", "at most " + Limits.MAX_ENCODE_PROMPTS + " prompts per call, got " + n);
        }
        for (int i = 0; i < n; i++) {
            Checks.prompt("prompts[" + i + "]", r.getPrompts(i));
        }
        String jobId = Checks.optionalId("job_id", r.getJobId());
        return new Valid(List.copyOf(r.getPromptsList()), r.getIncludeUnconditional(), jobId);
    }
}
