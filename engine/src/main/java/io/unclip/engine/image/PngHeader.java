package io.unclip.engine.image;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * The PNG signature and IHDR chunk, parsed from the first 33 bytes without decoding anything
 * else, so that size limits can be enforced before a decoder allocates memory.
 */
public record PngHeader(long width, long height, int bitDepth, int colorType) {

    static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    /** Signature + IHDR chunk (length, type, 13 data bytes, CRC). */
    static final int SIZE = 8 + 4 + 4 + 13 + 4;

    public long pixels() {
        return width * height;
    }

    /** Parses the header from the start of {@code data}. */
    public static PngHeader parse(byte[] data, int length) {
        if (length < SIGNATURE.length || !startsWith(data, SIGNATURE)) {
            throw new ImageRejectedException("not a PNG image" + guessFormat(data, length));
        }
        if (length < SIZE) {
            throw new ImageRejectedException("corrupt PNG: " + length + " bytes, too short for a header");
        }
        ByteBuffer b = ByteBuffer.wrap(data, 8, SIZE - 8);
        int chunkLength = b.getInt();
        String type = new String(data, 12, 4, StandardCharsets.ISO_8859_1);
        if (chunkLength != 13 || !type.equals("IHDR")) {
            throw new ImageRejectedException("corrupt PNG: first chunk is '" + printable(type) + "' of " + chunkLength
                    + " bytes, expected IHDR of 13");
        }
        b.position(16); // past the chunk type
        long width = Integer.toUnsignedLong(b.getInt());
        long height = Integer.toUnsignedLong(b.getInt());
        int bitDepth = b.get() & 0xff;
        int colorType = b.get() & 0xff;
        b.position(b.position() + 3); // compression, filter, interlace
        CRC32 crc = new CRC32();
        crc.update(data, 12, 17);
        if ((int) crc.getValue() != b.getInt()) {
            throw new ImageRejectedException("corrupt PNG: header checksum mismatch");
        }
        if (width == 0 || height == 0 || width > Integer.MAX_VALUE || height > Integer.MAX_VALUE) {
            throw new ImageRejectedException("corrupt PNG: invalid size " + width + "x" + height);
        }
        return new PngHeader(width, height, bitDepth, colorType);
    }

    /** Throws if the declared size is over the limits. */
    void checkAgainst(ImageLimits limits) {
        if (width > limits.maxWidth() || height > limits.maxHeight() || pixels() > limits.maxPixels()) {
            throw new ImageRejectedException("PNG is " + width + "x" + height + " (" + pixels() + " pixels), limit is "
                    + limits.maxWidth() + "x" + limits.maxHeight() + " and " + limits.maxPixels() + " pixels");
        }
    }

    private static boolean startsWith(byte[] data, byte[] prefix) {
        for (int i = 0; i < prefix.length; i++) {
            if (data[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static String guessFormat(byte[] d, int n) {
        if (n >= 3 && (d[0] & 0xff) == 0xff && (d[1] & 0xff) == 0xd8 && (d[2] & 0xff) == 0xff) {
            return " (looks like JPEG)";
        }
        if (n >= 4 && d[0] == 'G' && d[1] == 'I' && d[2] == 'F' && d[3] == '8') {
            return " (looks like GIF)";
        }
        if (n >= 12 && d[0] == 'R' && d[1] == 'I' && d[2] == 'F' && d[3] == 'F' && d[8] == 'W' && d[9] == 'E') {
            return " (looks like WebP)";
        }
        return n == 0 ? " (no data)" : "";
    }

    private static String printable(String s) {
        return s.chars().allMatch(c -> c >= 32 && c < 127) ? s : "?";
    }
}
