package io.unclip.service.validate;

import com.google.protobuf.ByteString;

/**
 * Reads the format and pixel size of an encoded image from its header, without decoding it,
 * so that oversized images are refused before any pixel buffer is allocated.
 */
public final class ImageHeaders {
    private ImageHeaders() {
    }

    /** Encoded image formats the API accepts. */
    public enum Format {
        PNG, JPEG
    }

    /** Format and size read from a header. */
    public record Info(Format format, int width, int height) {
        public long pixels() {
            return (long) width * height;
        }
    }

    private static final byte[] PNG_SIGNATURE = { (byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

    /**
     * @return the header's format and size
     * @throws IllegalArgumentException with a short reason when the bytes are neither a PNG nor a
     *         JPEG, or the header is truncated or corrupt
     */
    public static Info probe(ByteString bytes) {
        if (isPng(bytes)) {
            return probePng(bytes);
        }
        if (bytes.size() >= 3 && u8(bytes, 0) == 0xFF && u8(bytes, 1) == 0xD8 && u8(bytes, 2) == 0xFF) {
            return probeJpeg(bytes);
        }
        throw new IllegalArgumentException("not a PNG or JPEG image");
    }

    public static boolean isPng(ByteString bytes) {
        if (bytes.size() < PNG_SIGNATURE.length) {
            return false;
        }
        for (int i = 0; i < PNG_SIGNATURE.length; i++) {
            if (bytes.byteAt(i) != PNG_SIGNATURE[i]) {
                return false;
            }
        }
        return true;
    }

    private static Info probePng(ByteString b) {
        // signature(8) | length(4) "IHDR"(4) width(4) height(4) ...
        if (b.size() < 24 || u8(b, 12) != 'I' || u8(b, 13) != 'H' || u8(b, 14) != 'D' || u8(b, 15) != 'R') {
            throw new IllegalArgumentException("truncated or corrupt PNG header (no IHDR chunk)");
        }
        long w = u32(b, 16);
        long h = u32(b, 20);
        if (w < 1 || h < 1 || w > Integer.MAX_VALUE || h > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("corrupt PNG header: size " + w + "x" + h);
        }
        return new Info(Format.PNG, (int) w, (int) h);
    }

    private static Info probeJpeg(ByteString b) {
        int i = 2;
        int n = b.size();
        while (i < n) {
            if (u8(b, i) != 0xFF) {
                throw new IllegalArgumentException("corrupt JPEG header: no marker at byte " + i);
            }
            while (i < n && u8(b, i) == 0xFF) { // fill bytes
                i++;
            }
            if (i >= n) {
                break;
            }
            int marker = u8(b, i++);
            if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                continue; // markers without a payload
            }
            if (marker == 0xD9 || marker == 0xDA) {
                break; // end of image / start of scan before any frame header
            }
            if (i + 2 > n) {
                break;
            }
            int len = u16(b, i);
            if (len < 2) {
                throw new IllegalArgumentException("corrupt JPEG header: segment length " + len);
            }
            boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (sof) {
                if (i + 7 > n) {
                    break;
                }
                int h = u16(b, i + 3);
                int w = u16(b, i + 5);
                if (w < 1 || h < 1) {
                    throw new IllegalArgumentException("JPEG with unsupported size " + w + "x" + h);
                }
                return new Info(Format.JPEG, w, h);
            }
            i += len;
        }
        throw new IllegalArgumentException("truncated or corrupt JPEG header (no frame header)");
    }

    private static int u8(ByteString b, int i) {
        return b.byteAt(i) & 0xFF;
    }

    private static int u16(ByteString b, int i) {
        return (u8(b, i) << 8) | u8(b, i + 1);
    }

    private static long u32(ByteString b, int i) {
        return ((long) u8(b, i) << 24) | ((long) u8(b, i + 1) << 16) | ((long) u8(b, i + 2) << 8) | u8(b, i + 3);
    }
}
