package io.unclip.engine.image;

import io.unclip.engine.tensor.Tensor;
import java.util.Map;

/**
 * A decoded PNG.
 *
 * @param pixels {@code [1, 3, height, width]}, RGB in [-1, 1]
 * @param text   the PNG's text metadata (tEXt, zTXt, iTXt) in file order
 */
public record DecodedImage(Tensor pixels, Map<String, String> text) {

    public DecodedImage {
        text = Map.copyOf(text);
    }

    public int width() {
        return (int) pixels.dim(3);
    }

    public int height() {
        return (int) pixels.dim(2);
    }
}
