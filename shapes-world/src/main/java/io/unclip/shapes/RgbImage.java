package io.unclip.shapes;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;

/** An 8-bit sRGB image, row-major, channels interleaved (HWC, RGB): {@code data[(y*width + x)*3 + c]}. */
public final class RgbImage {
    public final int width, height;
    public final byte[] data;

    public RgbImage(int width, int height) {
        this(width, height, new byte[Math.multiplyExact(Math.multiplyExact(width, height), 3)]);
    }

    public RgbImage(int width, int height, byte[] data) {
        if (width <= 0 || height <= 0 || data.length != width * height * 3)
            throw new IllegalArgumentException("bad image geometry " + width + "x" + height + " / " + data.length);
        this.width = width;
        this.height = height;
        this.data = data;
    }

    /** Channel value 0..255. */
    public int get(int x, int y, int c) {
        return data[(y * width + x) * 3 + c] & 0xFF;
    }

    public int[] rgb(int x, int y) {
        int i = (y * width + x) * 3;
        return new int[] {data[i] & 0xFF, data[i + 1] & 0xFF, data[i + 2] & 0xFF};
    }

    public BufferedImage toBufferedImage() {
        BufferedImage bi = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        byte[] dst = ((DataBufferByte) bi.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < data.length; i += 3) {
            dst[i] = data[i + 2];
            dst[i + 1] = data[i + 1];
            dst[i + 2] = data[i];
        }
        return bi;
    }

    public static RgbImage fromBufferedImage(BufferedImage bi) {
        RgbImage img = new RgbImage(bi.getWidth(), bi.getHeight());
        int[] row = new int[bi.getWidth()];
        for (int y = 0; y < img.height; y++) {
            bi.getRGB(0, y, img.width, 1, row, 0, img.width);
            for (int x = 0; x < img.width; x++) {
                int p = row[x], i = (y * img.width + x) * 3;
                img.data[i] = (byte) (p >> 16);
                img.data[i + 1] = (byte) (p >> 8);
                img.data[i + 2] = (byte) p;
            }
        }
        return img;
    }

    public void writePng(Path file) throws IOException {
        if (!ImageIO.write(toBufferedImage(), "png", file.toFile())) throw new IOException("no PNG writer");
    }

    public static RgbImage readPng(Path file) throws IOException {
        BufferedImage bi = ImageIO.read(file.toFile());
        if (bi == null) throw new IOException("not an image: " + file);
        return fromBufferedImage(bi);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RgbImage r && r.width == width && r.height == height && Arrays.equals(r.data, data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data) * 31 + width;
    }
}
