package io.unclip.service;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

import javax.imageio.ImageIO;

import com.google.protobuf.ByteString;

/** Small encoded images for tests. */
final class Images {
    private Images() {
    }

    static ByteString encode(String format, int width, int height) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB), format, out);
            return ByteString.copyFrom(out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A PNG whose header claims {@code width x height}: only the header is real. */
    static ByteString pngHeaderClaiming(int width, int height) {
        byte[] b = encode("png", 1, 1).toByteArray();
        b[16] = (byte) (width >>> 24); b[17] = (byte) (width >>> 16); b[18] = (byte) (width >>> 8); b[19] = (byte) width;
        b[20] = (byte) (height >>> 24); b[21] = (byte) (height >>> 16); b[22] = (byte) (height >>> 8); b[23] = (byte) height;
        return ByteString.copyFrom(b);
    }
}
