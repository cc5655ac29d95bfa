/**
 * The model repository: bundles of stage models described by JSON manifests, validated against
 * the ONNX sessions they load. Entry point: {@link io.unclip.engine.model.ModelRepository}.
 * The manifest format is documented in engine/MANIFEST.md.
 */
package io.unclip.engine.model;
