package io.unclip.service.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import com.google.protobuf.ByteString;

import io.unclip.api.v1.CancelRequest;
import io.unclip.api.v1.CaptionRequest;
import io.unclip.api.v1.CaptionStyle;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GetJobRequest;
import io.unclip.api.v1.InterpolateRequest;
import io.unclip.api.v1.Sampler;
import io.unclip.api.v1.SamplerParams;
import io.unclip.api.v1.VariationsRequest;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.kafka.testkit.TestImages;

class ImageRequestValidatorTest {
    final ImageRequestValidator validator = new ImageRequestValidator();

    static GenerateRequest.Builder generate() {
        return GenerateRequest.newBuilder()
                .setPrompt("a small red circle at the top left on a white background")
                .setNumImages(4)
                .setSeed(0)
                .setSize(128)
                .setPrior(SamplerParams.newBuilder().setSampler(Sampler.DDIM).setSteps(25).setGuidanceScale(4f))
                .setDecoder(SamplerParams.newBuilder().setRespacing("ddim27").setEta(0.5f).setGuidanceScale(8f))
                .setUpsampler(SamplerParams.newBuilder().setRespacing("10,5").setGuidanceScale(1f))
                .setPreviewInterval(5)
                .setRequestId("batch-7.prompt_1");
    }

    static <T> InvalidRequestException fails(Consumer<T> validate, T request) {
        return assertThrows(InvalidRequestException.class, () -> validate.accept(request));
    }

    static String samplerField(String field, SamplerParams.Builder p) {
        return assertThrows(InvalidRequestException.class,
                () -> ImageRequestValidator.samplerParams(field, p.build(), true)).field();
    }

    /** Sampler parameters at the door follow the engine's rules: one respacing grammar, one set of limits. */
    @Test
    void samplerParamsByTheEnginesRules() {
        assertEquals(0, ImageRequestValidator.samplerParams("decoder", SamplerParams.getDefaultInstance(), true));
        assertEquals(25, ImageRequestValidator.samplerParams("decoder", SamplerParams.newBuilder().setSteps(25).build(), true));
        assertEquals("decoder.steps", samplerField("decoder", SamplerParams.newBuilder().setSteps(0)));
        assertEquals("decoder.steps", samplerField("decoder", SamplerParams.newBuilder().setSteps(1001)));
        assertEquals("prior.steps", samplerField("prior", SamplerParams.newBuilder().setSteps(10).setRespacing("10")));
        for (String[] ok : new String[][] {{"10,15,20", "45"}, {"ddim27", "27"}, {"trailing25", "25"},
                {"leading4", "4"}, {"linspace10", "10"}}) {
            assertEquals(Integer.parseInt(ok[1]), ImageRequestValidator.samplerParams("p",
                    SamplerParams.newBuilder().setRespacing(ok[0]).build(), true), ok[0]);
        }
        for (String bad : new String[] {"", "ddim", "ddim0", "10,,5", "0", "abc", "10,0", "600,600", "-5", "+5",
            "trailing", "x".repeat(65)}) {
            assertEquals("p.respacing", samplerField("p", SamplerParams.newBuilder().setRespacing(bad)), bad);
        }
        assertEquals("upsampler.guidance_scale", samplerField("upsampler", SamplerParams.newBuilder().setGuidanceScale(50.5f)));
        samplerField("u", SamplerParams.newBuilder().setGuidanceScale(Float.NaN));
        samplerField("u", SamplerParams.newBuilder().setGuidanceScale(-0.1f));
        ImageRequestValidator.samplerParams("u", SamplerParams.newBuilder().setGuidanceScale(0f).build(), true);
        ImageRequestValidator.samplerParams("u", SamplerParams.newBuilder().setSampler(Sampler.DDIM).setEta(1f).build(), true);
        assertEquals("u.eta", samplerField("u", SamplerParams.newBuilder().setSampler(Sampler.DDPM).setEta(0.5f)));
        assertEquals("u.eta", samplerField("u", SamplerParams.newBuilder().setEta(1.5f)));
        assertEquals("u.sampler", samplerField("u", SamplerParams.newBuilder().setSamplerValue(7)));
        assertEquals("u.clip_x0", samplerField("u", SamplerParams.newBuilder()
                .setClipX0(io.unclip.api.v1.ClipRange.newBuilder().setMin(1).setMax(-1))));
        ImageRequestValidator.samplerParams("u", SamplerParams.newBuilder()
                .setClipX0(io.unclip.api.v1.ClipRange.newBuilder().setMin(-1).setMax(1)).build(), true);
    }

    String generateField(GenerateRequest r) {
        return fails(validator::validate, r).field();
    }

    @Test
    void generate_acceptsValidRequests() {
        ImageRequestValidator.ValidGenerate v = validator.validate(generate().build());
        assertEquals(4, v.numImages());
        assertEquals(128, v.size());
        v = validator.validate(GenerateRequest.newBuilder().setPrompt("a blue square").build());
        assertEquals(1, v.numImages());
        assertEquals(0, v.size());
        validator.validate(generate().setNumImages(8).setSeed(-1L).setSize(512).build());
    }

    @Test
    void generate_namesTheOffendingField() {
        assertEquals("prompt: is required", fails(validator::validate, generate().clearPrompt().build()).getMessage());
        assertEquals("prompt: must not be blank", fails(validator::validate, generate().setPrompt(" \t").build()).getMessage());
        assertEquals("prompt: must be at most 256 characters, got 257",
                fails(validator::validate, generate().setPrompt("a".repeat(257)).build()).getMessage());
        assertEquals("num_images", generateField(generate().setNumImages(9).build()));
        assertEquals("size", generateField(generate().setSize(100).build()));
        assertEquals("prior.steps", generateField(generate().setPrior(SamplerParams.newBuilder().setSteps(1001)).build()));
        assertEquals("decoder.guidance_scale",
                generateField(generate().setDecoder(SamplerParams.newBuilder().setGuidanceScale(-1)).build()));
        assertEquals("upsampler.respacing",
                generateField(generate().setUpsampler(SamplerParams.newBuilder().setRespacing("ddim")).build()));
        assertEquals("preview_interval", generateField(generate().setPreviewInterval(1001).build()));
        assertEquals("request_id", generateField(generate().setRequestId("a/b").build()));
    }

    @Test
    void variations() {
        ByteString png = TestImages.encode("png", 64, 64);
        assertEquals(3, validator.validate(VariationsRequest.newBuilder().setImage(png).setNumImages(3).build()));
        assertEquals(1, validator.validate(VariationsRequest.newBuilder().setImage(TestImages.encode("jpg", 64, 48)).build()));
        assertEquals("image", fails(validator::validate, VariationsRequest.newBuilder().build()).field());
        assertTrue(fails(validator::validate, VariationsRequest.newBuilder().setImage(TestImages.pngHeaderClaiming(4097, 4097)).build())
                .getMessage().contains("16 Mpx"));
        assertEquals("num_images", fails(validator::validate,
                VariationsRequest.newBuilder().setImage(png).setNumImages(100).build()).field());
        assertEquals("decoder.steps", fails(validator::validate, VariationsRequest.newBuilder().setImage(png)
                .setDecoder(SamplerParams.newBuilder().setSteps(0)).build()).field());
        assertEquals("prompt", fails(validator::validate,
                VariationsRequest.newBuilder().setImage(png).setPrompt("x".repeat(300)).build()).field());
    }

    @Test
    void interpolate() {
        ByteString png = TestImages.encode("png", 64, 64);
        assertEquals(8, validator.validate(InterpolateRequest.newBuilder().setImageA(png).setImageB(png).build()));
        assertEquals(2, validator.validate(InterpolateRequest.newBuilder().setImageA(png)
                .setTowardsPrompt("a green triangle").setFrames(2).build()));
        assertEquals("target", fails(validator::validate, InterpolateRequest.newBuilder().setImageA(png).build()).field());
        assertEquals("image_a", fails(validator::validate, InterpolateRequest.newBuilder().setImageB(png).build()).field());
        assertEquals("image_b", fails(validator::validate, InterpolateRequest.newBuilder().setImageA(png)
                .setImageB(ByteString.copyFromUtf8("nope")).build()).field());
        assertEquals("towards_prompt", fails(validator::validate, InterpolateRequest.newBuilder().setImageA(png)
                .setTowardsPrompt(" ").build()).field());
        assertEquals("frames", fails(validator::validate, InterpolateRequest.newBuilder().setImageA(png).setImageB(png)
                .setFrames(1).build()).field());
        assertEquals("frames", fails(validator::validate, InterpolateRequest.newBuilder().setImageA(png).setImageB(png)
                .setFrames(33).build()).field());
    }

    @Test
    void captionAndJobs() {
        ByteString png = TestImages.encode("png", 64, 64);
        assertEquals(CaptionStyle.SHORT, validator.validate(CaptionRequest.newBuilder().setImage(png).build()));
        assertEquals("image", fails(validator::validate, CaptionRequest.newBuilder().build()).field());
        assertEquals("style", fails(validator::validate, CaptionRequest.newBuilder().setImage(png).setStyleValue(42).build()).field());
        assertEquals("max_tokens", fails(validator::validate, CaptionRequest.newBuilder().setImage(png).setMaxTokens(1000).build()).field());
        assertEquals("job-1", validator.validate(GetJobRequest.newBuilder().setJobId("job-1").build()));
        assertEquals("job_id: is required", fails(validator::validate, GetJobRequest.newBuilder().build()).getMessage());
        assertEquals("job_id", fails(validator::validate, CancelRequest.newBuilder().setJobId("../etc").build()).field());
    }
}
