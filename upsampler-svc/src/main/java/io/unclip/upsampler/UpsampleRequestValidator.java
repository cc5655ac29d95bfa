package io.unclip.upsampler;

import io.unclip.api.v1.UpsampleRequest;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.stage.ImageRequestValidator;
import io.unclip.service.validate.Checks;
import io.unclip.service.validate.ImageHeaders;
import io.unclip.service.validate.Limits;

/**
 * Checks an {@link UpsampleRequest} against the contract (stages.proto) before any model work.
 * Plain Java: no framework, no model. Whether the input side matches the cascade step's model
 * (e.g. 32 for step 0) is checked against the manifest once the model is loaded.
 */
public final class UpsampleRequestValidator {

    /** A request that passed validation: batch size and input side. */
    public record Valid(UpsampleRequest request, int batch, int side, int steps) {
    }

    /** @throws InvalidRequestException naming the first offending field */
    public Valid validate(UpsampleRequest r) {
        int batch;
        int side;
        switch (r.getLowResCase()) {
            case PIXELS -> {
                long[] s = Checks.tensor("pixels", r.getPixels(), true, 4);
                if (s[0] > Limits.MAX_STAGE_BATCH) {
                    throw Checks.invalid("pixels.shape", "batch must be at most " + Limits.MAX_STAGE_BATCH + ", got " + s[0]);
                }
                if (s[1] != 3) {
                    throw Checks.invalid("pixels.shape", "must be [N, 3, h, w] (RGB), got " + r.getPixels().getShapeList());
                }
                if (s[2] != s[3]) {
                    throw Checks.invalid("pixels.shape", "images must be square, got " + s[2] + "x" + s[3]);
                }
                batch = (int) s[0];
                side = side("pixels.shape", s[2]);
            }
            case IMAGE -> {
                ImageHeaders.Info info = Checks.imageRef("image", r.getImage(), true);
                if (info.width() != info.height()) {
                    throw Checks.invalid("image", "must be square, got " + info.width() + "x" + info.height());
                }
                batch = 1;
                side = side("image", info.width());
            }
            default -> throw Checks.invalid("low_res", "one of pixels or image is required");
        }
        Checks.atMost("cascade_step", r.getCascadeStep(), Limits.MAX_CASCADE_STEPS - 1);
        int steps = ImageRequestValidator.samplerParams("params", r.getParams(), r.hasParams());
        Checks.previewInterval("preview_interval", r.getPreviewInterval());
        Checks.optionalId("job_id", r.getJobId());
        return new Valid(r, batch, side, steps);
    }

    private static int side(String field, long side) {
        if (side < Limits.MIN_UPSAMPLE_SIDE || side > Limits.MAX_UPSAMPLE_SIDE) {
            throw Checks.invalid(field, "side must be in [" + Limits.MIN_UPSAMPLE_SIDE + ", " + Limits.MAX_UPSAMPLE_SIDE
                    + "], got " + side);
        }
        return (int) side;
    }
}
