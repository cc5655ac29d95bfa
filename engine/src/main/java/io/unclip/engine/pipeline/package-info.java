/**
 * The embedded cascade: {@link io.unclip.engine.pipeline.Cascade} runs text-to-image
 * ({@link io.unclip.engine.pipeline.GenerationRequest}), variations, interpolations, inpainting and
 * captions with every stage in one process, reporting to a
 * {@link io.unclip.engine.pipeline.CascadeListener} and returning images with the
 * {@link io.unclip.engine.pipeline.GenerationParameters} that reproduce them.
 */
package io.unclip.engine.pipeline;
