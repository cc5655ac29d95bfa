package io.unclip.captioner;

import io.unclip.api.v1.CaptionImageRequest;
import io.unclip.api.v1.CaptionStyle;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.validate.Checks;
import io.unclip.service.validate.ImageHeaders;
import io.unclip.service.validate.Limits;

/**
 * Checks a {@link CaptionImageRequest} against the contract (stages.proto) before any model
 * work: the image's size is read from its header, never by decoding it. Plain Java: no
 * framework, no model.
 */
public final class CaptionRequestValidator {

    /** A request that passed validation, with defaults applied (max_tokens 0 stays "model default"). */
    public record Valid(CaptionImageRequest request, ImageHeaders.Info image, CaptionStyle style, int maxTokens) {
    }

    /** @throws InvalidRequestException naming the first offending field */
    public Valid validate(CaptionImageRequest r) {
        ImageHeaders.Info image = Checks.imageRef("image", r.getImage(), r.hasImage());
        CaptionStyle style = switch (r.getStyle()) {
            case CAPTION_STYLE_UNSPECIFIED, SHORT -> CaptionStyle.SHORT;
            case DESCRIPTIVE -> CaptionStyle.DESCRIPTIVE;
            default -> throw Checks.invalid("style", "unknown caption style " + r.getStyleValue());
        };
        int maxTokens = Checks.atMost("max_tokens", r.getMaxTokens(), Limits.MAX_CAPTION_TOKENS);
        Checks.optionalId("job_id", r.getJobId());
        return new Valid(r, image, style, maxTokens);
    }
}
