package io.unclip.service.stage;

import io.unclip.api.v1.CancelRequest;
import io.unclip.api.v1.CaptionRequest;
import io.unclip.api.v1.CaptionStyle;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GetJobRequest;
import io.unclip.api.v1.InterpolateRequest;
import io.unclip.api.v1.SamplerParams;
import io.unclip.api.v1.VariationsRequest;
import io.unclip.engine.diffusion.Respacing;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.service.codec.UploadedImages;
import io.unclip.service.validate.Checks;
import io.unclip.service.validate.Limits;

/**
 * Checks the public API's requests (image_service.proto) at the edge, before a job is created.
 * Plain Java: no framework, no model. Checks that need the model bundle (is `size` one the
 * cascade produces, respacing vs. schedules) are added with the pipeline.
 * Every method throws {@link InvalidRequestException} naming the first offending field.
 * Uploaded images are decoded last, after the cheap checks: a corrupt upload is refused here,
 * not by a stage after the job was accepted.
 */
public final class ImageRequestValidator {
    private final PngCodec png = PngCodec.withDefaultLimits();

    /** A Generate request after validation, with defaults applied (seed stays optional). */
    public record ValidGenerate(GenerateRequest request, int numImages, int size) {
    }

    /**
     * A stage's sampler parameters at the door, by the engine's rules (the respacing grammar and
     * every limit are defined there once: {@link SamplerOverrides#check}); the model's chain
     * length is checked when the job's stages are known.
     *
     * @return the steps they ask for, or 0 when the manifest decides
     */
    public static int samplerParams(String field, SamplerParams p, boolean present) {
        SamplerOverrides o = StageCodec.overrides(field, p, present);
        return o.steps() != null ? o.steps() : o.respacing() != null ? Respacing.steps(o.respacing()) : 0;
    }

    public ValidGenerate validate(GenerateRequest r) {
        Checks.prompt("prompt", r.getPrompt());
        int n = Checks.numImages("num_images", r.getNumImages());
        int size = Checks.size("size", r.getSize());
        samplerParams("prior", r.getPrior(), r.hasPrior());
        samplerParams("decoder", r.getDecoder(), r.hasDecoder());
        samplerParams("upsampler", r.getUpsampler(), r.hasUpsampler());
        Checks.previewInterval("preview_interval", r.getPreviewInterval());
        Checks.optionalId("request_id", r.getRequestId());
        return new ValidGenerate(r, n, size);
    }

    /** @return the number of variations */
    public int validate(VariationsRequest r) {
        Checks.uploadedImage("image", r.getImage());
        int n = Checks.numImages("num_images", r.getNumImages());
        Checks.size("size", r.getSize());
        samplerParams("decoder", r.getDecoder(), r.hasDecoder());
        samplerParams("upsampler", r.getUpsampler(), r.hasUpsampler());
        Checks.previewInterval("preview_interval", r.getPreviewInterval());
        Checks.optionalPrompt("prompt", r.getPrompt());
        Checks.optionalId("request_id", r.getRequestId());
        UploadedImages.verify("image", r.getImage(), png);
        return n;
    }

    /** @return the number of frames */
    public int validate(InterpolateRequest r) {
        Checks.uploadedImage("image_a", r.getImageA());
        switch (r.getTargetCase()) {
            case IMAGE_B -> Checks.uploadedImage("image_b", r.getImageB());
            case TOWARDS_PROMPT -> Checks.prompt("towards_prompt", r.getTowardsPrompt());
            default -> throw Checks.invalid("target", "one of image_b or towards_prompt is required");
        }
        int frames = Checks.count("frames", r.getFrames(), Limits.MIN_FRAMES, Limits.MAX_FRAMES, Limits.DEFAULT_FRAMES);
        Checks.size("size", r.getSize());
        samplerParams("decoder", r.getDecoder(), r.hasDecoder());
        samplerParams("upsampler", r.getUpsampler(), r.hasUpsampler());
        Checks.previewInterval("preview_interval", r.getPreviewInterval());
        Checks.optionalId("request_id", r.getRequestId());
        UploadedImages.verify("image_a", r.getImageA(), png);
        if (r.hasImageB()) {
            UploadedImages.verify("image_b", r.getImageB(), png);
        }
        return frames;
    }

    /** @return the effective caption style */
    public CaptionStyle validate(CaptionRequest r) {
        Checks.uploadedImage("image", r.getImage());
        CaptionStyle style = switch (r.getStyle()) {
            case CAPTION_STYLE_UNSPECIFIED, SHORT -> CaptionStyle.SHORT;
            case DESCRIPTIVE -> CaptionStyle.DESCRIPTIVE;
            default -> throw Checks.invalid("style", "unknown caption style " + r.getStyleValue());
        };
        Checks.atMost("max_tokens", r.getMaxTokens(), Limits.MAX_CAPTION_TOKENS);
        UploadedImages.verify("image", r.getImage(), png);
        return style;
    }

    public String validate(CancelRequest r) {
        return Checks.jobId("job_id", r.getJobId());
    }

    public String validate(GetJobRequest r) {
        return Checks.jobId("job_id", r.getJobId());
    }
}
