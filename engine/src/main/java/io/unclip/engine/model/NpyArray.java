package io.unclip.engine.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A float tensor read from a NumPy {@code .npy} file (format versions 1.0 to 3.0, little-endian
 * float32 or float64, C order), as {@code numpy.save} writes it. Written here because the format
 * is a magic string, a Python-literal header and raw data, and the Java libraries that read it
 * bring an array engine with them (DJL's NDArray) or are not on Maven Central; the engine only
 * needs small vectors such as a learned unconditional embedding.
 *
 * @param shape  dimensions ({@code []} for a scalar)
 * @param values the elements in C order, as float32
 */
public record NpyArray(long[] shape, float[] values) {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /** More than any embedding needs; keeps a wrong file from being read into memory whole. */
    static final long MAX_ELEMENTS = 1 << 24;

    public NpyArray {
        shape = shape.clone();
        values = values.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    /** The shape as text, e.g. [1, 768]. */
    public String shapeText() {
        return Arrays.toString(shape);
    }

    /**
     * @throws IllegalArgumentException saying what is wrong with the file (not a .npy file, an
     *                                  unsupported element type or order, truncated data)
     * @throws IOException              if it cannot be read
     */
    public static NpyArray read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_ELEMENTS * 8 + 65536) {
            throw new IllegalArgumentException("is " + size + " bytes, more than a .npy embedding of at most "
                    + MAX_ELEMENTS + " values");
        }
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length < 10 || !Arrays.equals(Arrays.copyOf(bytes, 6), MAGIC)) {
            throw new IllegalArgumentException("is not a .npy file (no \\x93NUMPY magic string)");
        }
        int major = bytes[6];
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength;
        int start;
        if (major == 1) {
            headerLength = Short.toUnsignedInt(in.getShort(8));
            start = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) {
                throw new IllegalArgumentException("is truncated in its header");
            }
            headerLength = Integer.toUnsignedLong(in.getInt(8));
            start = 12;
        } else {
            throw new IllegalArgumentException("has .npy format version " + major + "." + bytes[7]
                    + ", expected 1.0, 2.0 or 3.0");
        }
        if (start + headerLength > bytes.length) {
            throw new IllegalArgumentException("is truncated in its header");
        }
        String header = new String(bytes, start, (int) headerLength,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = field(DESCR, header, "descr");
        int width = switch (descr) {
            case "<f4" -> 4;
            case "<f8" -> 8;
            default -> throw new IllegalArgumentException("holds '" + descr + "' elements, expected little-endian"
                    + " float32 ('<f4') or float64 ('<f8')");
        };
        if (field(FORTRAN, header, "fortran_order").equals("True")) {
            throw new IllegalArgumentException("is in Fortran order, expected C order (numpy.ascontiguousarray)");
        }
        long[] shape = shape(field(SHAPE, header, "shape"));
        long count = 1;
        for (long d : shape) {
            count *= d;
            if (count > MAX_ELEMENTS) {
                throw new IllegalArgumentException("has shape " + Arrays.toString(shape) + ", more than "
                        + MAX_ELEMENTS + " values");
            }
        }
        int data = start + (int) headerLength;
        if ((long) bytes.length - data != count * width) {
            throw new IllegalArgumentException("has " + (bytes.length - data) + " data bytes, shape "
                    + Arrays.toString(shape) + " of " + descr + " needs " + count * width);
        }
        float[] values = new float[(int) count];
        for (int i = 0; i < values.length; i++) {
            values[i] = width == 4 ? in.getFloat(data + 4 * i) : (float) in.getDouble(data + 8 * i);
        }
        return new NpyArray(shape, values);
    }

    private static String field(Pattern p, String header, String name) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IllegalArgumentException("has no '" + name + "' in its header");
        }
        return m.group(1);
    }

    /** "3, 4" or "768," or "" (a scalar). */
    private static long[] shape(String tuple) {
        List<Long> dims = new ArrayList<>();
        for (String part : tuple.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            try {
                long d = Long.parseLong(p.endsWith("L") ? p.substring(0, p.length() - 1) : p);
                if (d < 0) {
                    throw new NumberFormatException();
                }
                dims.add(d);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("has shape (" + tuple + "), not a tuple of sizes");
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }
}
