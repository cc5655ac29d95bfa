package io.unclip.engine.image;

import io.unclip.engine.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * PNG encoding and decoding with {@code javax.imageio}, for images as NCHW float tensors in
 * [-1, 1] and text metadata as a key/value map (generation parameters).
 *
 * <p>Decoding treats input as untrusted: byte size, then width, height and pixel count from the
 * IHDR header are checked against {@link ImageLimits} before any pixel is decoded, and text
 * metadata is read with a size cap. Thread-safe.
 */
public final class PngCodec {
    private static final String PNG_FORMAT = "javax_imageio_png_1.0";

    private final ImageLimits limits;

    public PngCodec(ImageLimits limits) {
        this.limits = limits;
    }

    public static PngCodec withDefaultLimits() {
        return new PngCodec(ImageLimits.defaults());
    }

    public ImageLimits limits() {
        return limits;
    }

    // ---- writing ----

    /**
     * Encodes image {@code index} of an {@code [N,3,H,W]} tensor (values in [-1, 1], clamped) as
     * an 8-bit RGB PNG. Text entries are stored as tEXt, or as UTF-8 iTXt when not Latin-1.
     */
    public byte[] encode(Tensor images, int index, Map<String, String> text) {
        BufferedImage img = Pixels.toImage(images, index);
        ImageWriter writer = pngWriter();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            ImageWriteParam param = writer.getDefaultWriteParam();
            IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(img), param);
            if (!text.isEmpty()) {
                metadata.mergeTree(PNG_FORMAT, textTree(text));
            }
            writer.setOutput(out);
            writer.write(null, new IIOImage(img, null, metadata), param);
        } catch (IOException e) {
            throw new UncheckedIOException("PNG encoding failed", e);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    /** Encodes like {@link #encode} and writes the file. */
    public void write(Tensor images, int index, Map<String, String> text, Path file) throws IOException {
        Files.write(file, encode(images, index, text));
    }

    // ---- reading ----

    /** Decodes a PNG held in memory. */
    public DecodedImage decode(byte[] png) {
        return decode(png, png.length);
    }

    /** Reads a PNG file, refusing files over the byte limit without reading them. */
    public DecodedImage read(Path file) throws IOException {
        long size = Files.size(file);
        checkBytes(size);
        try (InputStream in = Files.newInputStream(file)) {
            return read(in);
        }
    }

    /**
     * Reads a PNG from a stream: the header is checked after its first 33 bytes, and at most the
     * byte limit is read before refusing the rest.
     */
    public DecodedImage read(InputStream in) throws IOException {
        byte[] head = in.readNBytes(PngHeader.SIZE);
        if (head.length > limits.maxBytes()) {
            throw tooLarge();
        }
        PngHeader.parse(head, head.length).checkAgainst(limits);
        long allowedRest = limits.maxBytes() - head.length;
        byte[] rest = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 16, allowedRest + 1));
        if (rest.length > allowedRest) {
            throw tooLarge();
        }
        long total = (long) head.length + rest.length;
        byte[] all = Arrays.copyOf(head, (int) total);
        System.arraycopy(rest, 0, all, head.length, rest.length);
        return decode(all, all.length);
    }

    /**
     * Decodes the pixels without converting them to a tensor, only to refuse a corrupt PNG: the
     * full check of an upload where its pixels are not needed (the gateway's door).
     *
     * @throws ImageRejectedException as {@link #decode(byte[])} does
     */
    public PngHeader verify(byte[] png) {
        checkBytes(png.length);
        PngHeader header = PngHeader.parse(png, png.length);
        header.checkAgainst(limits);
        decodePixels(png, png.length, header);
        return header;
    }

    /** Parses and checks only the header (signature and IHDR). */
    public PngHeader header(byte[] png) {
        PngHeader header = PngHeader.parse(png, png.length);
        header.checkAgainst(limits);
        return header;
    }

    private DecodedImage decode(byte[] data, int length) {
        checkBytes(length);
        PngHeader header = PngHeader.parse(data, length);
        header.checkAgainst(limits);
        Map<String, String> text = PngText.read(data, length, limits.maxTextBytes());
        BufferedImage img = decodePixels(data, length, header);
        return new DecodedImage(Pixels.toTensor(img), text);
    }

    private void checkBytes(long length) {
        if (length > limits.maxBytes()) {
            throw new ImageRejectedException("PNG is " + length + " bytes, limit is " + limits.maxBytes());
        }
    }

    private ImageRejectedException tooLarge() {
        return new ImageRejectedException("PNG is over the limit of " + limits.maxBytes() + " bytes");
    }

    private static BufferedImage decodePixels(byte[] data, int length, PngHeader header) {
        ImageReader reader = ImageIO.getImageReadersByFormatName("png").next();
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data, 0, length))) {
            // ignoreMetadata: text was read (with a cap) by PngText; ImageIO would inflate it unbounded
            reader.setInput(in, true, true);
            BufferedImage img = reader.read(0);
            if (img.getWidth() != header.width() || img.getHeight() != header.height()) {
                throw new ImageRejectedException("corrupt PNG: decoded " + img.getWidth() + "x" + img.getHeight()
                        + ", header says " + header.width() + "x" + header.height());
            }
            return img;
        } catch (IOException | RuntimeException e) {
            if (e instanceof ImageRejectedException r) {
                throw r;
            }
            throw new ImageRejectedException("corrupt PNG: " + e.getMessage(), e);
        } finally {
            reader.dispose();
        }
    }

    private static IIOMetadataNode textTree(Map<String, String> text) {
        IIOMetadataNode latin = new IIOMetadataNode("tEXt");
        IIOMetadataNode unicode = new IIOMetadataNode("iTXt");
        for (Map.Entry<String, String> e : text.entrySet()) {
            checkKeyword(e.getKey());
            String value = e.getValue();
            if (value.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("PNG text value for '" + e.getKey() + "' contains a NUL character");
            }
            if (StandardCharsets.ISO_8859_1.newEncoder().canEncode(value)) {
                IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
                entry.setAttribute("keyword", e.getKey());
                entry.setAttribute("value", value);
                latin.appendChild(entry);
            } else {
                IIOMetadataNode entry = new IIOMetadataNode("iTXtEntry");
                entry.setAttribute("keyword", e.getKey());
                entry.setAttribute("compressionFlag", "FALSE");
                entry.setAttribute("compressionMethod", "0");
                entry.setAttribute("languageTag", "");
                entry.setAttribute("translatedKeyword", "");
                entry.setAttribute("text", value);
                unicode.appendChild(entry);
            }
        }
        IIOMetadataNode root = new IIOMetadataNode(PNG_FORMAT);
        if (latin.hasChildNodes()) {
            root.appendChild(latin);
        }
        if (unicode.hasChildNodes()) {
            root.appendChild(unicode);
        }
        return root;
    }

    /** PNG keywords: 1-79 printable Latin-1 characters, no leading, trailing or double spaces. */
    private static void checkKeyword(String key) {
        boolean ok = !key.isEmpty() && key.length() <= 79 && !key.startsWith(" ") && !key.endsWith(" ")
                && !key.contains("  ");
        for (int i = 0; ok && i < key.length(); i++) {
            char c = key.charAt(i);
            ok = (c >= 32 && c <= 126) || (c >= 161 && c <= 255);
        }
        if (!ok) {
            throw new IllegalArgumentException("invalid PNG text key '" + key + "': use 1-79 printable Latin-1"
                    + " characters without leading, trailing or double spaces");
        }
    }

    private static ImageWriter pngWriter() {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        if (!writers.hasNext()) {
            throw new IllegalStateException("no PNG writer in this JDK");
        }
        return writers.next();
    }
}
