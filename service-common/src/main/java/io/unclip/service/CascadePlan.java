package io.unclip.service;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.unclip.api.v1.StageName;
import io.unclip.api.validate.InvalidRequestException;
import io.unclip.engine.model.BundleManifest;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;

/**
 * The sizes a bundle's cascade makes (the decoder's output, then each upsampler's, in
 * bundle.json order) and the stages a text-to-image job of a given size runs. Read from the
 * manifests alone (no model loaded), so every service and the gateway agree on it.
 */
public record CascadePlan(List<Integer> sizes) {
    public CascadePlan {
        sizes = List.copyOf(sizes);
    }

    public static CascadePlan of(BundleManifest bundle, Map<String, StageManifest> manifests) {
        List<Integer> sizes = new ArrayList<>();
        for (String s : bundle.stages()) {
            StageManifest m = manifests.get(s);
            if (m == null) {
                continue;
            }
            if (m.kind() == StageKind.DECODER && sizes.isEmpty()) {
                m.resolution().flatMap(r -> r.output().isPresent() ? java.util.Optional.of(r.output().getAsInt())
                        : java.util.Optional.empty()).ifPresent(sizes::add);
            } else if (m.kind() == StageKind.UPSAMPLER && !sizes.isEmpty()) {
                m.resolution().ifPresent(r -> r.output().ifPresent(sizes::add));
            }
        }
        return new CascadePlan(sizes);
    }

    /** The output size for a requested one: 0 = the largest; otherwise it must be one of {@link #sizes}. */
    public int resolveSize(int requested) {
        if (sizes.isEmpty()) {
            throw new InvalidRequestException("size", "the model bundle has no decoder, so it makes no images");
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

    /** Upsampler steps a job of output size {@code size} runs (0 = the decoder's output is final). */
    public int upsamplerSteps(int size) {
        int i = sizes.indexOf(size);
        if (i < 0) {
            throw new IllegalArgumentException("size " + size + " is not one of " + sizes);
        }
        return i;
    }

    /** The stages a text-to-image job of output size {@code size} runs, in order. */
    public List<StageName> generatePlan(int size) {
        return plan(size, true);
    }

    /**
     * The stages a variations or interpolation job runs: the text encoder's service encodes the
     * image(s) (its image encoder replaces the prior), then the decoder and upsamplers.
     */
    public List<StageName> imagePlan(int size) {
        return plan(size, false);
    }

    private List<StageName> plan(int size, boolean prior) {
        List<StageName> plan = new ArrayList<>(prior ? List.of(StageName.TEXT_ENCODER, StageName.PRIOR, StageName.DECODER)
                : List.of(StageName.TEXT_ENCODER, StageName.DECODER));
        for (int i = 0; i < upsamplerSteps(size); i++) {
            plan.add(StageName.UPSAMPLER);
        }
        return plan;
    }
}
