/**
 * ONNX Runtime integration: {@link io.unclip.engine.onnx.OrtRuntime} owns sessions (CPU or CUDA
 * with fallback), {@link io.unclip.engine.onnx.ModelSession} runs one model on
 * {@link io.unclip.engine.tensor.Tensor}s and measures time spent in ONNX Runtime.
 */
package io.unclip.engine.onnx;
