package io.unclip.shapes;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes a NumPy {@code .npy} (format 1.0) file of {@code uint8} with shape {@code (count, size, size, 3)}, records
 * written by index at fixed offsets from any thread ({@code numpy.load(path, mmap_mode="r")} reads it).
 */
public final class NpyWriter implements Closeable {
    private final FileChannel ch;
    private final long headerLen;
    private final int recordBytes;
    private final long count;

    public NpyWriter(Path file, long count, int size) throws IOException {
        this.count = count;
        this.recordBytes = size * size * 3;
        byte[] header = header("|u1", "(" + count + ", " + size + ", " + size + ", 3)");
        this.headerLen = header.length;
        this.ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        ch.write(ByteBuffer.wrap(header), 0);
    }

    /** The .npy v1.0 header for a C-order array, padded with spaces and a newline to a multiple of 64 bytes. */
    public static byte[] header(String descr, String shape) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int unpadded = 10 + dict.length() + 1;
        int pad = (64 - unpadded % 64) % 64;
        String h = dict + " ".repeat(pad) + "\n";
        byte[] hb = h.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer bb = ByteBuffer.allocate(10 + hb.length);
        bb.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        bb.put((byte) (hb.length & 0xFF)).put((byte) (hb.length >> 8)).put(hb);
        return bb.array();
    }

    public void write(long index, RgbImage img) throws IOException {
        if (img.data.length != recordBytes) throw new IllegalArgumentException("record size mismatch");
        if (index < 0 || index >= count) throw new IndexOutOfBoundsException(index + " of " + count);
        ByteBuffer bb = ByteBuffer.wrap(img.data);
        long pos = headerLen + index * recordBytes;
        while (bb.hasRemaining()) pos += ch.write(bb, pos);
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
