package io.unclip.kafka.testkit;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

import javax.imageio.ImageIO;

import com.google.protobuf.ByteString;

/** Small encoded images for the services' tests. */
public final class TestImages {
    private TestImages() {
    }

    /** A black {@code width x height} image in {@code format} ("png", "jpeg"). */
    public static ByteString encode(String format, int width, int height) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB), format, out);
            return ByteString.copyFrom(out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The first half of a {@code width x height} PNG of noise: its header is intact (so header
     * checks pass), its pixel data ends early, as in an upload cut off in transit.
     */
    public static ByteString truncatedPng(int width, int height) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        java.util.Random r = new java.util.Random(7);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            byte[] full = out.toByteArray();
            return ByteString.copyFrom(full, 0, full.length / 2);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A PNG whose header claims {@code width x height}: only the header is real (a decompression-bomb probe). */
    public static ByteString pngHeaderClaiming(int width, int height) {
        byte[] b = encode("png", 1, 1).toByteArray();
        writeInt(b, 16, width);
        writeInt(b, 20, height);
        return ByteString.copyFrom(b);
    }

    private static void writeInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}
