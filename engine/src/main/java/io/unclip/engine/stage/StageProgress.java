package io.unclip.engine.stage;

import io.unclip.engine.model.StageKind;
import io.unclip.engine.tensor.Tensor;
import java.util.Optional;

/**
 * One step of a stage run finished.
 *
 * @param stage       stage name in the bundle
 * @param kind        stage kind
 * @param cascadeStep the upsampler's 0-based 4x step; 0 for other stages
 * @param step        steps done, 1..total
 * @param total       steps of the run
 * @param preview     the current x0 prediction of every image, [N, C, H, W] in [-1, 1] (a copy the
 *                    listener may keep), on steps where the preview interval asks for one; null
 *                    otherwise and always for stages without images (the prior)
 */
public record StageProgress(String stage, StageKind kind, int cascadeStep, int step, int total, Tensor preview) {

    public Optional<Tensor> previewIfAny() {
        return Optional.ofNullable(preview);
    }
}
