package io.unclip.engine.pipeline;

import io.unclip.engine.stage.PriorResult;
import io.unclip.engine.stage.StageTimings;
import io.unclip.engine.tensor.Tensor;
import java.util.List;
import java.util.Optional;

/**
 * A finished cascade run.
 *
 * @param images     {@code [N, 3, S, S]} in model space (about [-1, 1]); PNG encoding clamps
 * @param parameters what was run, for reproduction and PNG metadata
 * @param timings    every stage run's timings, in order
 * @param warnings   non-fatal notes (e.g. a prompt cut to the text encoder's context)
 * @param prior      the prior's output (candidates and scores) when the prior ran
 */
public record GenerationResult(Tensor images, GenerationParameters parameters, List<StageTimings> timings,
                               List<String> warnings, Optional<PriorResult> prior) {

    public GenerationResult {
        timings = List.copyOf(timings);
        warnings = List.copyOf(warnings);
    }

    public int count() {
        return (int) images.dim(0);
    }

    /** Total wall time of the stage runs, nanoseconds. */
    public long wallNanos() {
        return timings.stream().mapToLong(StageTimings::wallNanos).sum();
    }

    /** Total time inside ONNX Runtime, nanoseconds. */
    public long ortNanos() {
        return timings.stream().mapToLong(StageTimings::ortNanos).sum();
    }
}
