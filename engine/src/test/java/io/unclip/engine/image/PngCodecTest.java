package io.unclip.engine.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngCodecTest {
    private final PngCodec codec = PngCodec.withDefaultLimits();

    // ---- round trips ----

    @Test
    void pixelsAndTextRoundTrip() {
        Tensor batch = Tensor.zeros(2, 3, 5, 7);
        Random random = new Random(7);
        for (int i = 0; i < batch.size(); i++) {
            batch.set(i, random.nextInt(256) / 127.5f - 1f); // exactly representable in 8 bits
        }
        Map<String, String> text = new LinkedHashMap<>();
        text.put("prompt", "a small red circle at the top left");
        text.put("seed", "42");
        text.put("parameters", "{\"steps\": 25, \"guidance\": 3.0}");
        text.put("Beschreibung", "ein roter Kreis – 赤い円"); // not Latin-1: stored as iTXt

        DecodedImage decoded = codec.decode(codec.encode(batch, 1, text));

        assertArrayEquals(new long[] {1, 3, 5, 7}, decoded.pixels().shape());
        float[] expected = Arrays.copyOfRange(batch.toArray(), 3 * 5 * 7, 2 * 3 * 5 * 7);
        assertArrayEquals(expected, decoded.pixels().toArray(), 1e-6f);
        assertEquals(text, decoded.text());
        assertEquals(7, decoded.width());
        assertEquals(5, decoded.height());
    }

    @Test
    void valuesAreClampedAndRounded() {
        Tensor t = Tensor.of(new float[] {-3f, -1f, 0f, 1f, 5f, 0.001f}, 3, 1, 2);
        float[] back = codec.decode(codec.encode(t, 0, Map.of())).pixels().toArray();
        float level128 = 128 / 127.5f - 1f;
        assertArrayEquals(new float[] {-1f, -1f, level128, 1f, 1f, level128}, back, 1e-6f);
    }

    @Test
    void nonFiniteValuesAreRefusedOnWrite() {
        Tensor t = Tensor.zeros(1, 3, 2, 2);
        t.set(5, Float.NaN);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.encode(t, 0, Map.of()));
        assertEquals("image 0 has a non-finite value (NaN) in channel 1 at pixel 1,0", e.getMessage());
    }

    @Test
    void badTextKeysAreRefusedOnWrite() {
        Tensor t = Tensor.zeros(1, 3, 2, 2);
        assertThrows(IllegalArgumentException.class, () -> codec.encode(t, 0, Map.of(" seed", "1")));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(t, 0, Map.of("", "1")));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(t, 0, Map.of("k".repeat(80), "1")));
    }

    @Test
    void grayAndPaletteImagesReadAsRgb() throws IOException {
        BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 100);
        gray.getRaster().setSample(1, 0, 0, 255);
        float[] g = codec.decode(png(gray)).pixels().toArray();
        float v100 = 100 / 127.5f - 1f;
        assertArrayEquals(new float[] {v100, 1f, v100, 1f, v100, 1f}, g, 1e-6f);

        BufferedImage palette = new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_INDEXED);
        palette.setRGB(0, 0, 0xff0000);
        assertArrayEquals(new float[] {1f, -1f, -1f}, codec.decode(png(palette)).pixels().toArray(), 1e-6f);
    }

    @Test
    void fileRoundTrip(@TempDir Path dir) throws IOException {
        Tensor t = Tensor.of(new float[] {-1f, 1f, -1f, 1f, -1f, 1f}, 1, 3, 1, 2);
        Path file = dir.resolve("out.png");
        codec.write(t, 0, Map.of("seed", "7"), file);
        DecodedImage back = codec.read(file);
        assertArrayEquals(t.toArray(), back.pixels().toArray(), 1e-6f);
        assertEquals("7", back.text().get("seed"));
    }

    // ---- untrusted input ----

    @Test
    void hugeDeclaredSizeIsRefusedFromTheHeaderAlone() throws IOException {
        byte[] bomb = declaredSizeBomb(20000, 20000, 600 * 1024);
        assertTrue(bomb.length > 590 * 1024 && bomb.length < 620 * 1024, "about 600 KB: " + bomb.length);
        String expected = "PNG is 20000x20000 (400000000 pixels), limit is 4096x4096 and 16777216 pixels";

        ImageRejectedException e = assertTimeoutPreemptively(Duration.ofSeconds(2),
                () -> assertThrows(ImageRejectedException.class, () -> codec.decode(bomb)));
        assertEquals(expected, e.getMessage());

        // from a stream, nothing past the 33 header bytes is even read
        CountingStream in = new CountingStream(new ByteArrayInputStream(bomb));
        ImageRejectedException fromStream = assertThrows(ImageRejectedException.class, () -> codec.read(in));
        assertEquals(expected, fromStream.getMessage());
        assertEquals(33, in.count);
    }

    @Test
    void eachDimensionLimitApplies() {
        PngCodec small = new PngCodec(ImageLimits.defaults().withMaxSize(64, 32, 1000));
        assertEquals("PNG is 65x10 (650 pixels), limit is 64x32 and 1000 pixels",
                assertThrows(ImageRejectedException.class, () -> small.decode(solid(65, 10))).getMessage());
        assertEquals("PNG is 10x33 (330 pixels), limit is 64x32 and 1000 pixels",
                assertThrows(ImageRejectedException.class, () -> small.decode(solid(10, 33))).getMessage());
        assertEquals("PNG is 40x30 (1200 pixels), limit is 64x32 and 1000 pixels",
                assertThrows(ImageRejectedException.class, () -> small.decode(solid(40, 30))).getMessage());
        assertEquals(25, small.decode(solid(25, 40 - 15)).width());
    }

    @Test
    void byteLimitApplies(@TempDir Path dir) throws IOException {
        byte[] noisy = noise(32, 32);
        assertTrue(noisy.length > 1000, "needs to exceed the limit: " + noisy.length);
        PngCodec tight = new PngCodec(ImageLimits.defaults().withMaxBytes(1000));

        assertEquals("PNG is " + noisy.length + " bytes, limit is 1000",
                assertThrows(ImageRejectedException.class, () -> tight.decode(noisy)).getMessage());
        Path file = Files.write(dir.resolve("big.png"), noisy);
        assertEquals("PNG is " + noisy.length + " bytes, limit is 1000",
                assertThrows(ImageRejectedException.class, () -> tight.read(file)).getMessage());
        CountingStream in = new CountingStream(new ByteArrayInputStream(noisy));
        assertEquals("PNG is over the limit of 1000 bytes",
                assertThrows(ImageRejectedException.class, () -> tight.read(in)).getMessage());
        assertEquals(1001, in.count, "reads one byte past the limit, no more");

        assertEquals(32, new PngCodec(ImageLimits.defaults().withMaxBytes(noisy.length)).decode(noisy).width());
    }

    @Test
    void nonPngInputIsNamed() throws IOException {
        ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_3BYTE_BGR), "jpg", jpeg);
        assertEquals("not a PNG image (looks like JPEG)",
                assertThrows(ImageRejectedException.class, () -> codec.decode(jpeg.toByteArray())).getMessage());
        assertEquals("not a PNG image",
                assertThrows(ImageRejectedException.class,
                        () -> codec.decode("hello, world".getBytes(StandardCharsets.US_ASCII))).getMessage());
        assertEquals("not a PNG image (no data)",
                assertThrows(ImageRejectedException.class, () -> codec.decode(new byte[0])).getMessage());
    }

    @Test
    void corruptPngsAreRefusedWithoutLeakingDecoderExceptions() {
        byte[] good = noise(8, 8);
        byte[] badCrc = good.clone();
        badCrc[29] ^= 1; // last IHDR data byte
        assertEquals("corrupt PNG: header checksum mismatch",
                assertThrows(ImageRejectedException.class, () -> codec.decode(badCrc)).getMessage());

        byte[] truncated = Arrays.copyOf(good, good.length - 30);
        assertTrue(assertThrows(ImageRejectedException.class, () -> codec.decode(truncated)).getMessage()
                .startsWith("corrupt PNG: chunk 'IDAT' at byte 33 claims"));

        byte[] junkPixels = png(ihdr(8, 8), chunk("IDAT", new byte[] {1, 2, 3, 4, 5}), chunk("IEND", new byte[0]));
        ImageRejectedException e = assertThrows(ImageRejectedException.class, () -> codec.decode(junkPixels));
        assertTrue(e.getMessage().startsWith("corrupt PNG: "), e.getMessage());
    }

    @Test
    void compressedTextIsReadAndCapped() {
        byte[] small = png(ihdr(1, 1), zTXt("comment", "x".repeat(100)), idat(1, 1), chunk("IEND", new byte[0]));
        assertEquals("x".repeat(100), codec.decode(small).text().get("comment"));

        byte[] bomb = png(ihdr(1, 1), zTXt("comment", "x".repeat(20 << 20)), idat(1, 1), chunk("IEND", new byte[0]));
        assertTrue(bomb.length < 100_000, "small file: " + bomb.length);
        assertEquals("PNG text metadata exceeds 1048576 bytes",
                assertThrows(ImageRejectedException.class, () -> codec.decode(bomb)).getMessage());
    }

    // ---- PNG construction helpers ----

    /** A valid IHDR for width x height RGB, deflated zeros as pixel data, then junk to the target size. */
    private static byte[] declaredSizeBomb(int width, int height, int targetBytes) {
        byte[] zeros = deflate(new byte[8 << 20]);
        byte[] junk = new byte[targetBytes - zeros.length - 100];
        new Random(1).nextBytes(junk);
        return png(ihdr(width, height), chunk("IDAT", zeros), chunk("IDAT", junk), chunk("IEND", new byte[0]));
    }

    private static byte[] ihdr(int width, int height) {
        return chunk("IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0).array());
    }

    /** Pixel data of an all-black 8-bit RGB image: one filter byte (0) per row. */
    private static byte[] idat(int width, int height) {
        return chunk("IDAT", deflate(new byte[(1 + 3 * width) * height]));
    }

    private static byte[] zTXt(String key, String value) {
        byte[] k = key.getBytes(StandardCharsets.ISO_8859_1);
        byte[] z = deflate(value.getBytes(StandardCharsets.ISO_8859_1));
        ByteBuffer b = ByteBuffer.allocate(k.length + 2 + z.length).put(k).put((byte) 0).put((byte) 0).put(z);
        return chunk("zTXt", b.array());
    }

    private static byte[] chunk(String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        return ByteBuffer.allocate(12 + data.length).putInt(data.length).put(t).put(data).putInt((int) crc.getValue())
                .array();
    }

    private static byte[] png(byte[]... chunks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        for (byte[] c : chunks) {
            out.writeBytes(c);
        }
        return out.toByteArray();
    }

    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(9);
        d.setInput(data);
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        while (!d.finished()) {
            out.write(buf, 0, d.deflate(buf));
        }
        d.end();
        return out.toByteArray();
    }

    private static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, "png", out));
        return out.toByteArray();
    }

    private byte[] solid(int width, int height) {
        return codec.encode(Tensor.zeros(1, 3, height, width), 0, Map.of());
    }

    private byte[] noise(int width, int height) {
        Tensor t = Tensor.zeros(1, 3, height, width);
        Random random = new Random(3);
        for (int i = 0; i < t.size(); i++) {
            t.set(i, random.nextFloat() * 2 - 1);
        }
        return codec.encode(t, 0, Map.of());
    }

    /** Counts the bytes a reader consumed. */
    private static final class CountingStream extends FilterInputStream {
        long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            count += b >= 0 ? 1 : 0;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            count += Math.max(n, 0);
            return n;
        }
    }
}
