/**
 * One class per stage of the cascade, each running its stage on a request, framework-free so that
 * the embedded {@link io.unclip.engine.pipeline.Cascade} and the stage services share them:
 * {@link io.unclip.engine.stage.TextEncoderStage}, {@link io.unclip.engine.stage.PriorStage},
 * {@link io.unclip.engine.stage.DecoderStage}, {@link io.unclip.engine.stage.UpsamplerStage},
 * {@link io.unclip.engine.stage.CaptionerStage} and {@link io.unclip.engine.stage.ImageEncoderStage}.
 *
 * <p>Each is built from a {@link io.unclip.engine.model.LoadedStage} and is thread-safe. A run
 * takes a {@link io.unclip.engine.stage.RunContext} (listener, cancellation, preview interval)
 * and reports {@link io.unclip.engine.stage.StageStarted}, per-step
 * {@link io.unclip.engine.stage.StageProgress} (with x0 previews) and
 * {@link io.unclip.engine.stage.StageTimings} (wall time and time inside ONNX Runtime).
 * Sampling parameters default from the manifest and are overridden per request by
 * {@link io.unclip.engine.stage.SamplerOverrides}; what was used comes back as
 * {@link io.unclip.engine.stage.SamplerSettings}.
 *
 * <p>The inference contract (unconditional inputs of guidance, upsampler input layout, captioner
 * logits, noise streams) is written down in engine/MANIFEST.md, "Sampling contract".
 */
package io.unclip.engine.stage;
