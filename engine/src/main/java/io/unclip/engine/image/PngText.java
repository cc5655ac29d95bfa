package io.unclip.engine.image;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads text metadata (tEXt, zTXt, iTXt) by walking the PNG's chunks. Done here rather than by
 * ImageIO because ImageIO inflates compressed text without bound; here the total is capped, so a
 * small file cannot expand into gigabytes of "metadata".
 */
final class PngText {
    private PngText() {
    }

    static Map<String, String> read(byte[] png, int length, int maxTextBytes) {
        Map<String, String> text = new LinkedHashMap<>();
        Budget budget = new Budget(maxTextBytes);
        int pos = PngHeader.SIGNATURE.length;
        while (pos + 12 <= length) {
            long chunkLength = Integer.toUnsignedLong(ByteBuffer.wrap(png, pos, 4).getInt());
            String type = new String(png, pos + 4, 4, StandardCharsets.ISO_8859_1);
            int data = pos + 8;
            if (chunkLength > length - data - 4) {
                throw new ImageRejectedException("corrupt PNG: chunk '" + type + "' at byte " + pos + " claims "
                        + chunkLength + " bytes, the file ends before");
            }
            int n = (int) chunkLength;
            switch (type) {
                case "tEXt" -> put(text, tEXt(png, data, n, budget));
                case "zTXt" -> put(text, zTXt(png, data, n, budget));
                case "iTXt" -> put(text, iTXt(png, data, n, budget));
                case "IEND" -> {
                    return text;
                }
                default -> {
                    // pixels and other chunks are ImageIO's business
                }
            }
            pos = data + n + 4;
        }
        return text;
    }

    private static void put(Map<String, String> text, String[] entry) {
        if (entry != null) {
            text.put(entry[0], entry[1]);
        }
    }

    private static String[] tEXt(byte[] b, int off, int n, Budget budget) {
        int nul = indexOf(b, off, off + n);
        if (nul < 0) {
            return null; // malformed entry: skip it, the image itself may be fine
        }
        budget.spend(off + n - nul - 1);
        return new String[] {latin1(b, off, nul), latin1(b, nul + 1, off + n)};
    }

    private static String[] zTXt(byte[] b, int off, int n, Budget budget) {
        int nul = indexOf(b, off, off + n);
        if (nul < 0 || nul + 2 > off + n) {
            return null;
        }
        byte[] inflated = inflate(b, nul + 2, off + n, budget);
        return new String[] {latin1(b, off, nul), new String(inflated, StandardCharsets.ISO_8859_1)};
    }

    private static String[] iTXt(byte[] b, int off, int n, Budget budget) {
        int end = off + n;
        int nul = indexOf(b, off, end);
        if (nul < 0 || nul + 3 > end) {
            return null;
        }
        boolean compressed = b[nul + 1] != 0;
        int language = indexOf(b, nul + 3, end);
        int translated = language < 0 ? -1 : indexOf(b, language + 1, end);
        if (translated < 0) {
            return null;
        }
        int textStart = translated + 1;
        byte[] value;
        if (compressed) {
            value = inflate(b, textStart, end, budget);
        } else {
            budget.spend(end - textStart);
            value = java.util.Arrays.copyOfRange(b, textStart, end);
        }
        return new String[] {latin1(b, off, nul), new String(value, StandardCharsets.UTF_8)};
    }

    private static byte[] inflate(byte[] b, int from, int to, Budget budget) {
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(b, from, to - from);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (!inflater.finished()) {
                int got = inflater.inflate(buf);
                if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break; // truncated stream: keep what was readable
                }
                budget.spend(got);
                out.write(buf, 0, got);
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new ImageRejectedException("corrupt PNG: compressed text cannot be inflated: " + e.getMessage(), e);
        } finally {
            inflater.end();
        }
    }

    private static int indexOf(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    private static String latin1(byte[] b, int from, int to) {
        return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
    }

    /** Total text bytes allowed, decompressed. */
    private static final class Budget {
        private final int max;
        private long used;

        Budget(int max) {
            this.max = max;
        }

        void spend(long bytes) {
            used += bytes;
            if (used > max) {
                throw new ImageRejectedException("PNG text metadata exceeds " + max + " bytes");
            }
        }
    }
}
