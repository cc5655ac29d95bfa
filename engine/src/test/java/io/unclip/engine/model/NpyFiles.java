package io.unclip.engine.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes .npy files (format 1.0) for tests, including broken ones. */
public final class NpyFiles {
    private NpyFiles() {
    }

    /** A little-endian float32 array of the given shape, e.g. "(16,)" or "(1, 16)". */
    public static Path float32(Path file, String shapeTuple, float... values) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            data.putFloat(v);
        }
        return write(file, "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeTuple + ", }", data.array());
    }

    /** Any header dictionary and data bytes. */
    public static Path write(Path file, String header, byte[] data) throws IOException {
        StringBuilder h = new StringBuilder(header);
        while ((10 + h.length() + 1) % 64 != 0) { // numpy pads the header to a multiple of 64 bytes
            h.append(' ');
        }
        h.append('\n');
        byte[] head = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer out = ByteBuffer.allocate(10 + head.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        out.putShort((short) head.length);
        out.put(head).put(data);
        Files.write(file, out.array());
        return file;
    }
}
