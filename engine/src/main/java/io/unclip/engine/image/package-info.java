/**
 * PNG codec for images as NCHW tensors in [-1, 1] with text metadata;
 * {@link io.unclip.engine.image.PngCodec} checks untrusted input against
 * {@link io.unclip.engine.image.ImageLimits} before decoding pixels.
 */
package io.unclip.engine.image;
