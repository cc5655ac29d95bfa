package io.unclip.engine.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.unclip.engine.model.BundleManifest;
import io.unclip.engine.model.ModelBundle;
import io.unclip.engine.model.ModelRepository;
import io.unclip.engine.model.ModelRepositoryException;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.engine.stage.SamplerSettings;

/**
 * The one cascade plan: for each kind of job, which stages run in which order, and which sizes
 * the cascade makes. It is computed from the bundle's manifests alone (no model loaded), so the
 * embedded {@link Cascade}, the gateway and every stage service read the same plan; nothing else
 * encodes the stage order.
 *
 * <p>The size chain is the decoder's output, then each upsampler's, in bundle.json order; an
 * upsampler must take what the stage before it makes. A job of size S runs the upsamplers up to
 * the one that makes S. Variations and interpolations take their image embeddings from the image
 * encoder instead of the prior; it runs with the text encoder (one step: "encode"), as the stage
 * services host it. A caption job is the captioner alone.
 */
public final class CascadePlan {
    /** What a job asks for. */
    public enum Job {
        GENERATE, VARIATIONS, INTERPOLATE, INPAINT, CAPTION;

        /** Whether the prior makes the image embeddings (otherwise the image encoder does). */
        public boolean usesPrior() {
            return this == GENERATE || this == INPAINT;
        }
    }

    /**
     * One step of a job's plan.
     *
     * @param kind        the stage kind that runs it (TEXT_ENCODER also runs the image encoder for
     *                    variations and interpolations)
     * @param cascadeStep the upsampler's 0-based position in the chain; 0 for other stages
     * @param stage       the bundle's stage name (its directory), e.g. "upsampler_128"
     * @param outputSize  the side of the images it makes; 0 for stages that make no image
     */
    public record Step(StageKind kind, int cascadeStep, String stage, int outputSize) {
    }

    private final String bundle;
    private final Map<String, StageManifest> manifests;
    private final Step textEncoder;
    private final Step prior;
    private final Step decoder;
    private final List<Step> upsamplers;
    private final Step captioner;
    private final List<Integer> sizes;

    private CascadePlan(String bundle, Map<String, StageManifest> manifests, Step textEncoder, Step prior,
                        Step decoder, List<Step> upsamplers, Step captioner) {
        this.bundle = bundle;
        this.manifests = Map.copyOf(manifests);
        this.textEncoder = textEncoder;
        this.prior = prior;
        this.decoder = decoder;
        this.upsamplers = List.copyOf(upsamplers);
        this.captioner = captioner;
        List<Integer> s = new ArrayList<>();
        if (decoder != null) {
            s.add(decoder.outputSize());
            upsamplers.forEach(u -> s.add(u.outputSize()));
        }
        this.sizes = List.copyOf(s);
    }

    /** The plan of a loaded bundle. */
    public static CascadePlan of(ModelBundle bundle) {
        Map<String, StageManifest> manifests = new java.util.LinkedHashMap<>();
        bundle.stages().forEach((name, stage) -> manifests.put(name, stage.manifest()));
        return of(bundle.manifest(), manifests);
    }

    /** The plan of the bundle in {@code dir}, read from its manifests without loading a model. */
    public static CascadePlan read(java.nio.file.Path dir) {
        ModelRepository reader = new ModelRepository(null);
        BundleManifest bundle = reader.readBundle(dir);
        Map<String, StageManifest> manifests = new java.util.LinkedHashMap<>();
        for (String s : bundle.stages()) {
            manifests.put(s, reader.readStage(dir, s));
        }
        return of(bundle, manifests);
    }

    /**
     * The plan of a bundle from its manifests: the first stage of each kind in bundle.json order
     * (every upsampler, in that order).
     *
     * @throws ModelRepositoryException when an upsampler does not take what the stage before it makes
     */
    public static CascadePlan of(BundleManifest bundle, Map<String, StageManifest> manifests) {
        Step text = null;
        Step prior = null;
        Step decoder = null;
        Step captioner = null;
        List<Step> ups = new ArrayList<>();
        String previous = null;
        int last = 0;
        for (String name : bundle.stages()) {
            StageManifest m = manifests.get(name);
            if (m == null) {
                continue;
            }
            switch (m.kind()) {
                case TEXT_ENCODER -> text = text != null ? text : new Step(StageKind.TEXT_ENCODER, 0, name, 0);
                case PRIOR -> prior = prior != null ? prior : new Step(StageKind.PRIOR, 0, name, 0);
                case CAPTIONER -> captioner = captioner != null ? captioner : new Step(StageKind.CAPTIONER, 0, name, 0);
                case DECODER -> {
                    if (decoder == null) {
                        last = side(bundle, m, false);
                        decoder = new Step(StageKind.DECODER, 0, name, last);
                        previous = name;
                    }
                }
                case UPSAMPLER -> {
                    if (decoder == null) {
                        throw error(bundle, name + " comes before the decoder (upsamplers run in bundle.json order,"
                                + " after it)");
                    }
                    int in = m.resolution().flatMap(r -> r.input().isPresent()
                            ? Optional.of(r.input().getAsInt()) : Optional.empty()).orElse(last);
                    if (in != last) {
                        throw error(bundle, name + " takes " + in + "x" + in + " images but " + previous
                                + " before it makes " + last + "x" + last + " (upsamplers run in bundle.json order)");
                    }
                    last = side(bundle, m, true);
                    ups.add(new Step(StageKind.UPSAMPLER, ups.size(), name, last));
                    previous = name;
                }
                default -> {
                    // the image encoder runs inside the text encoder's step
                }
            }
        }
        return new CascadePlan(bundle.name(), manifests, text, prior, decoder, ups, captioner);
    }

    private static int side(BundleManifest bundle, StageManifest m, boolean upsampler) {
        return m.resolution().flatMap(r -> r.output().isPresent() ? Optional.of(r.output().getAsInt())
                : Optional.empty()).orElseThrow(() -> error(bundle, m.stage() + ": its manifest states no"
                + " resolution.output, which a " + (upsampler ? "upsampler" : "decoder") + " needs"));
    }

    private static ModelRepositoryException error(BundleManifest bundle, String message) {
        return new ModelRepositoryException(bundle.dir().resolve("bundle.json"), "bundle.json: " + message);
    }

    /** The sizes this bundle makes, smallest (the decoder's) first; empty without a decoder. */
    public List<Integer> sizes() {
        return sizes;
    }

    /** The upsampler steps of the chain, in order. */
    public List<Step> upsamplers() {
        return upsamplers;
    }

    /**
     * The output size for a requested one: 0 = the largest the bundle makes; otherwise it must be
     * one of {@link #sizes()}.
     */
    public int resolveSize(int requested) {
        if (sizes.isEmpty()) {
            throw new InvalidRequestException("size", "the model bundle '" + bundle + "' has no decoder, so it"
                    + " makes no images");
        }
        if (requested == 0) {
            return sizes.get(sizes.size() - 1);
        }
        if (!sizes.contains(requested)) {
            throw new InvalidRequestException("size", requested + " is not a size this bundle makes; it makes "
                    + String.join(", ", sizes.stream().map(String::valueOf).toList()));
        }
        return requested;
    }

    /** How many upsamplers a job of output size {@code size} (one of {@link #sizes()}) runs. */
    public int upsamplerSteps(int size) {
        int i = sizes.indexOf(size);
        if (i < 0) {
            throw new IllegalArgumentException("size " + size + " is not one of " + sizes);
        }
        return i;
    }

    /**
     * The steps of a job of output size {@code size} (0 = the largest; ignored for captions), in
     * order.
     *
     * @throws InvalidRequestException when the bundle lacks a stage the job needs or does not make
     *                                 that size
     */
    public List<Step> steps(Job job, int size) {
        if (job == Job.CAPTION) {
            return List.of(require(captioner, "captioner", job));
        }
        List<Step> out = new ArrayList<>();
        out.add(require(textEncoder, "text_encoder", job));
        if (job.usesPrior()) {
            out.add(require(prior, "prior", job));
        }
        out.add(require(decoder, "decoder", job));
        out.addAll(upsamplers.subList(0, upsamplerSteps(resolveSize(size))));
        return List.copyOf(out);
    }

    /**
     * What runs after {@code kind} (at {@code cascadeStep}, for upsamplers) in a job of output size
     * {@code size}; empty when that step is the job's last.
     */
    public Optional<Step> next(Job job, int size, StageKind kind, int cascadeStep) {
        List<Step> steps = steps(job, size);
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            if (s.kind() == kind && s.cascadeStep() == cascadeStep) {
                return i + 1 < steps.size() ? Optional.of(steps.get(i + 1)) : Optional.empty();
            }
        }
        throw new IllegalArgumentException(kind.id() + " step " + cascadeStep + " is not part of a " + job
                + " job of size " + size + ": " + steps);
    }

    /**
     * The preflight of a job: every diffusion step's sampler settings (manifest defaults with the
     * request's overrides), keyed by stage name in plan order, decided before anything runs, so a
     * bad override fails the job at its door and not at its third stage.
     *
     * @throws InvalidRequestException naming the field of the first override a stage cannot take
     */
    public Map<String, SamplerSettings> settings(Job job, int size, StageOverrides overrides) {
        StageOverrides o = overrides == null ? StageOverrides.none() : overrides;
        Map<String, SamplerSettings> out = new java.util.LinkedHashMap<>();
        for (Step s : steps(job, size)) {
            SamplerOverrides so = switch (s.kind()) {
                case PRIOR -> o.prior();
                case DECODER -> o.decoder();
                case UPSAMPLER -> o.upsampler();
                default -> null;
            };
            if (so != null) {
                SamplerSettings settings = SamplerSettings.forStage(manifests.get(s.stage()), so);
                // the prior ranks by its own text embedding; the decoder's images need CLIP's image tower
                if (s.kind() == StageKind.DECODER && settings.candidates() > 1 && !has(StageKind.IMAGE_ENCODER)) {
                    throw new InvalidRequestException("decoder.candidates", "the model bundle '" + bundle
                            + "' has no image_encoder stage to rank candidates with");
                }
                out.put(s.stage(), settings);
            }
        }
        return out;
    }

    private boolean has(StageKind kind) {
        return manifests.values().stream().anyMatch(m -> m.kind() == kind);
    }

    private Step require(Step step, String kind, Job job) {
        if (step == null) {
            throw new InvalidRequestException("request", "the model bundle '" + bundle + "' has no " + kind
                    + " stage, which a " + job.name().toLowerCase(java.util.Locale.ROOT) + " job needs");
        }
        return step;
    }

    @Override
    public String toString() {
        return "CascadePlan[" + bundle + ": sizes " + sizes + "]";
    }
}
