package io.unclip.engine.image;

/**
 * Bounds on untrusted PNG input, all checked before any pixel is decoded.
 *
 * @param maxBytes     size of the encoded file
 * @param maxWidth     width in pixels
 * @param maxHeight    height in pixels
 * @param maxPixels    width x height
 * @param maxTextBytes total size of text metadata after decompression
 */
public record ImageLimits(long maxBytes, int maxWidth, int maxHeight, long maxPixels, int maxTextBytes) {

    public ImageLimits {
        if (maxBytes < 1 || maxWidth < 1 || maxHeight < 1 || maxPixels < 1 || maxTextBytes < 0) {
            throw new IllegalArgumentException("image limits must be positive: " + maxBytes + " bytes, "
                    + maxWidth + "x" + maxHeight + ", " + maxPixels + " pixels, " + maxTextBytes + " text bytes");
        }
    }

    /** 32 MiB, 4096x4096 (16.7 M pixels), 1 MiB of text. */
    public static ImageLimits defaults() {
        return new ImageLimits(32L << 20, 4096, 4096, 4096L * 4096, 1 << 20);
    }

    public ImageLimits withMaxBytes(long bytes) {
        return new ImageLimits(bytes, maxWidth, maxHeight, maxPixels, maxTextBytes);
    }

    public ImageLimits withMaxSize(int width, int height, long pixels) {
        return new ImageLimits(maxBytes, width, height, pixels, maxTextBytes);
    }

    public ImageLimits withMaxTextBytes(int bytes) {
        return new ImageLimits(maxBytes, maxWidth, maxHeight, maxPixels, bytes);
    }
}
