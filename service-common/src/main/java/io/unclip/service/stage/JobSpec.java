package io.unclip.service.stage;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.InterpolateRequest;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.VariationsRequest;
import io.unclip.engine.stage.DiffusionRequest;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.service.validate.Limits;

/**
 * What the diffusion stages need to know about a job, whatever kind it is (generate, variations,
 * interpolate): the same values the embedded cascade passes to the engine for it, so every stage
 * draws the same noise and reports the same parameters.
 *
 * @param mode            "generate", "variations" or "interpolate" (GenerationParameters.mode)
 * @param prompt          the prompt the result reports, or null when the job has none
 * @param seed            the job's seed (always resolved before the job is queued)
 * @param numImages       images the job makes (frames for an interpolation)
 * @param images          the noise stream of each image: 0..n-1, or all 0 for interpolation
 *                        frames (every frame uses the same decoder noise)
 * @param requestedSize   the requested output size (0 = the bundle's largest)
 * @param prior           the prior's overrides (generate only)
 * @param decoder         the decoder's overrides
 * @param upsampler       every upsampler's overrides
 * @param previewInterval preview every this many steps (0 = none)
 * @param extra           mode-specific parameters (frames)
 */
public record JobSpec(String mode, String prompt, long seed, int numImages, int[] images, int requestedSize,
                      SamplerOverrides prior, SamplerOverrides decoder, SamplerOverrides upsampler,
                      int previewInterval, Map<String, Object> extra) {

    public static JobSpec of(JobRequest r) {
        return switch (r.getRequestCase()) {
            case GENERATE -> generate(r.getGenerate());
            case VARIATIONS -> variations(r.getVariations());
            case INTERPOLATE -> interpolate(r.getInterpolate());
            default -> throw new IllegalArgumentException("a " + r.getRequestCase() + " job has no images");
        };
    }

    static JobSpec generate(GenerateRequest g) {
        int n = g.getNumImages() == 0 ? 1 : g.getNumImages();
        return new JobSpec("generate", g.getPrompt(), g.getSeed(), n, StageCodec.range(n), g.getSize(),
                StageCodec.overrides("prior", g.getPrior(), g.hasPrior()),
                StageCodec.overrides("decoder", g.getDecoder(), g.hasDecoder()),
                StageCodec.overrides("upsampler", g.getUpsampler(), g.hasUpsampler()),
                g.getPreviewInterval(), Map.of());
    }

    static JobSpec variations(VariationsRequest v) {
        int n = v.getNumImages() == 0 ? 1 : v.getNumImages();
        return new JobSpec("variations", v.getPrompt().isEmpty() ? null : v.getPrompt(), v.getSeed(), n,
                StageCodec.range(n), v.getSize(), SamplerOverrides.none(),
                StageCodec.overrides("decoder", v.getDecoder(), v.hasDecoder()),
                StageCodec.overrides("upsampler", v.getUpsampler(), v.hasUpsampler()), v.getPreviewInterval(),
                Map.of());
    }

    static JobSpec interpolate(InterpolateRequest i) {
        int k = i.getFrames() == 0 ? Limits.DEFAULT_FRAMES : i.getFrames();
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("frames", k);
        return new JobSpec("interpolate", null, i.getSeed(), k, new int[k], i.getSize(), SamplerOverrides.none(),
                StageCodec.overrides("decoder", i.getDecoder(), i.hasDecoder()),
                StageCodec.overrides("upsampler", i.getUpsampler(), i.hasUpsampler()), i.getPreviewInterval(),
                extra);
    }

    /** Whether the job runs the prior (text-to-image) or starts from image embeddings. */
    public boolean usesPrior() {
        return mode.equals("generate");
    }

    /** The engine request of one diffusion stage of this job. */
    public DiffusionRequest diffusion(SamplerOverrides overrides) {
        return new DiffusionRequest(seed, Arrays.copyOf(images, images.length), overrides);
    }
}
