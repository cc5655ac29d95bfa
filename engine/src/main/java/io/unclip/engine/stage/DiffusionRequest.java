package io.unclip.engine.stage;

import java.util.Arrays;

/**
 * What a diffusion stage run samples: which images of a request (their noise streams) and with
 * which overrides of the manifest's sampling defaults.
 *
 * @param seed         the request's seed (any 64-bit value)
 * @param imageIndices per batch row, the image's 0-based index within its request; selects the
 *                     row's noise stream, so image i is the same in any batch. Indices may repeat
 *                     (interpolation frames share one image's noise)
 * @param overrides    per-request sampler changes
 */
public record DiffusionRequest(long seed, int[] imageIndices, SamplerOverrides overrides) {

    public DiffusionRequest {
        if (imageIndices == null || imageIndices.length == 0) {
            throw new IllegalArgumentException("at least one image index is required");
        }
        imageIndices = imageIndices.clone();
        for (int i : imageIndices) {
            if (i < 0) {
                throw new IllegalArgumentException("image indices must be >= 0, got " + Arrays.toString(imageIndices));
            }
        }
        overrides = overrides == null ? SamplerOverrides.none() : overrides;
    }

    /** Images 0..n-1 with the manifest's defaults. */
    public static DiffusionRequest of(long seed, int n) {
        return new DiffusionRequest(seed, range(n), null);
    }

    public DiffusionRequest withOverrides(SamplerOverrides o) {
        return new DiffusionRequest(seed, imageIndices, o);
    }

    @Override
    public int[] imageIndices() {
        return imageIndices.clone();
    }

    public int rows() {
        return imageIndices.length;
    }

    static int[] range(int n) {
        int[] r = new int[n];
        Arrays.setAll(r, i -> i);
        return r;
    }
}
