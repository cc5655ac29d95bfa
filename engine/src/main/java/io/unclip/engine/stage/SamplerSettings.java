package io.unclip.engine.stage;

import io.unclip.engine.diffusion.BetaSchedule;
import io.unclip.engine.diffusion.ClassifierFreeGuidance;
import io.unclip.engine.diffusion.DiffusionSampler;
import io.unclip.engine.diffusion.GaussianDiffusion;
import io.unclip.engine.diffusion.ModelOutputSpec;
import io.unclip.engine.diffusion.Prediction;
import io.unclip.engine.diffusion.Respacing;
import io.unclip.engine.diffusion.VarianceType;
import io.unclip.engine.diffusion.X0Clip;
import io.unclip.engine.model.DiffusionSpec;
import io.unclip.engine.model.StageManifest;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The sampling parameters a diffusion stage run actually used: the manifest's defaults with the
 * request's {@link SamplerOverrides} applied and validated.
 *
 * @param sampler       "ddpm", "ddim" or "consistency"
 * @param respacing     respacing string
 * @param steps         sampling steps the respacing keeps (= model calls)
 * @param eta           DDIM eta (0 for the other samplers)
 * @param guidanceScale classifier-free guidance scale; 1 = no guidance (N model rows, not 2N)
 * @param clipRange     x0 clamp; empty = none
 * @param classifierScale ADM classifier guidance scale; 0 = none
 * @param candidates    samples per requested output, the best by CLIP kept (prior embeddings, decoder
 *                      images); 1 = no ranking
 */
public record SamplerSettings(String sampler, String respacing, int steps, double eta, double guidanceScale,
                              OptionalDouble clipRange, double classifierScale, int candidates) {
    /** Without classifier guidance. */
    public SamplerSettings(String sampler, String respacing, int steps, double eta, double guidanceScale,
                           OptionalDouble clipRange) {
        this(sampler, respacing, steps, eta, guidanceScale, clipRange, 0.0, 1);
    }

    /** One candidate per image. */
    public SamplerSettings(String sampler, String respacing, int steps, double eta, double guidanceScale,
                           OptionalDouble clipRange, double classifierScale) {
        this(sampler, respacing, steps, eta, guidanceScale, clipRange, classifierScale, 1);
    }

    /**
     * Applies {@code overrides} to {@code spec}.
     *
     * @param field field path prefix for error messages, e.g. "decoder"
     * @throws InvalidRequestException naming the field when an override is out of range
     */
    public static SamplerSettings resolve(String field, DiffusionSpec spec, SamplerOverrides overrides) {
        SamplerOverrides o = (overrides == null ? SamplerOverrides.none() : overrides).check(field);
        int t = spec.trainTimesteps();
        String sampler = o.sampler() != null ? o.sampler().trim().toLowerCase(Locale.ROOT) : spec.sampler();
        String respacing = spec.respacing();
        if (o.steps() != null) {
            int n = o.steps();
            if (n < 1 || n > t) {
                throw new InvalidRequestException(field + ".steps", "must be between 1 and " + t + ", got " + n);
            }
            respacing = shorthand(spec.respacing(), n, t);
        } else if (o.respacing() != null) {
            respacing = o.respacing().trim();
        }
        int steps;
        try {
            steps = Respacing.parse(respacing, t).numSteps();
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(field + ".respacing", "'" + respacing + "' is not usable with "
                    + t + " train timesteps: " + e.getMessage());
        }
        double eta;
        if (o.eta() != null) {
            eta = o.eta();
            if (!sampler.equals("ddim") && eta != 0) {
                throw new InvalidRequestException(field + ".eta", "applies to the ddim sampler only (this run uses "
                        + sampler + ")");
            }
        } else {
            eta = sampler.equals("ddim") ? spec.eta() : 0.0;
        }
        double guidance = o.guidanceScale() != null ? o.guidanceScale() : spec.guidanceScale();
        OptionalDouble clip = spec.clipRange();
        if (o.clipRange() != null) {
            double c = o.clipRange();
            if (c == Double.POSITIVE_INFINITY) {
                clip = OptionalDouble.empty();
            } else {
                clip = OptionalDouble.of(c);
            }
        }
        double classifier = o.classifierScale() != null ? o.classifierScale() : 0.0;
        int candidates = o.candidates() != null ? o.candidates() : spec.candidates();
        return new SamplerSettings(sampler, respacing, steps, eta, guidance, clip, classifier, candidates);
    }

    /**
     * A diffusion stage's settings from its manifest and the request's overrides, with what the
     * stage's inputs imply (an upsampler without image embeddings cannot be guided). The one place
     * a stage's settings are decided: the stages, the cascade plan's preflight and the services use it.
     */
    public static SamplerSettings forStage(StageManifest m, SamplerOverrides overrides) {
        String field = switch (m.kind()) {
            case PRIOR -> "prior";
            case DECODER -> "decoder";
            case UPSAMPLER -> "upsampler";
            default -> throw new IllegalArgumentException(m.stage() + " is a " + m.kind().id() + ", not a diffusion stage");
        };
        SamplerSettings s = resolve(field, m.diffusion().orElseThrow(() -> new IllegalArgumentException(m.stage()
                + ": a diffusion stage without a diffusion section")), overrides);
        if (m.kind() != io.unclip.engine.model.StageKind.DECODER && s.classifierScale() != 0) {
            throw new InvalidRequestException(field + ".classifier_guidance", "applies to the decoder only");
        }
        if (m.kind() == io.unclip.engine.model.StageKind.UPSAMPLER && s.candidates() != 1) {
            throw new InvalidRequestException(field + ".candidates", "applies to the prior and the decoder only");
        }
        if (m.kind() == io.unclip.engine.model.StageKind.UPSAMPLER && s.guided() && !StageRun.has(m, "image_embeds")) {
            throw new InvalidRequestException("upsampler.guidance_scale", m.stage() + " has no conditioning to"
                    + " guide (no image_embeds input); use 1");
        }
        return s;
    }

    /** {@code n} steps spaced like the manifest's default respacing: its ddim stride or diffusers spacing. */
    private static String shorthand(String defaultRespacing, int n, int t) {
        String d = defaultRespacing.trim();
        if (d.startsWith("ddim")) {
            return hasDdimStride(n, t) ? "ddim" + n : Integer.toString(n);
        }
        for (io.unclip.engine.diffusion.TimestepSpacing spacing : io.unclip.engine.diffusion.TimestepSpacing.values()) {
            String name = spacing.name().toLowerCase(Locale.ROOT);
            if (d.startsWith(name)) {
                return name + n;
            }
        }
        return Integer.toString(n);
    }

    private static boolean hasDdimStride(int n, int t) {
        for (int stride = 1; stride < t; stride++) {
            if ((t + stride - 1) / stride == n) {
                return true;
            }
        }
        return false;
    }

    /** Whether the run uses classifier-free guidance (2N model rows per step). */
    public boolean guided() {
        return guidanceScale != 1.0;
    }

    /** The respaced chain of {@code spec} these settings run. */
    public GaussianDiffusion diffusion(DiffusionSpec spec) {
        return GaussianDiffusion.create(BetaSchedule.fromName(spec.schedule()), spec.trainTimesteps(),
                Respacing.parse(respacing, spec.trainTimesteps()));
    }

    /** The sampler for {@code spec} with these settings. */
    public DiffusionSampler sampler(DiffusionSpec spec) {
        ModelOutputSpec out = new ModelOutputSpec(Prediction.fromName(spec.prediction()),
                VarianceType.fromName(spec.variance()),
                clipRange.isPresent() ? X0Clip.to(clipRange.getAsDouble()) : X0Clip.off());
        return DiffusionSampler.named(sampler, diffusion(spec), out, eta);
    }

    /** The guidance to apply, or null without guidance. */
    public ClassifierFreeGuidance guidance() {
        return guided() ? new ClassifierFreeGuidance(guidanceScale) : null;
    }

    /** For logs and PNG metadata: "ddim, ddim25 (25 steps), eta 0, guidance 4, clip 1". */
    public String describe() {
        return sampler + ", " + respacing + " (" + steps + " steps), eta " + num(eta) + ", guidance "
                + num(guidanceScale) + ", clip " + (clipRange.isPresent() ? num(clipRange.getAsDouble()) : "none")
                + (classifierScale != 0 ? ", classifier guidance " + num(classifierScale) : "")
                + (candidates != 1 ? ", best of " + candidates : "");
    }

    /** As a JSON-friendly map. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sampler", sampler);
        m.put("respacing", respacing);
        m.put("steps", steps);
        m.put("eta", eta);
        m.put("guidance_scale", guidanceScale);
        m.put("clip_range", clipRange.isPresent() ? clipRange.getAsDouble() : null);
        if (classifierScale != 0) { // absent when off: parameters of unguided runs read as before
            m.put("classifier_guidance", classifierScale);
        }
        if (candidates != 1) {
            m.put("candidates", candidates);
        }
        return m;
    }

    static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
