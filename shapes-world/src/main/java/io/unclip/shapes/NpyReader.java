package io.unclip.shapes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a C-order uint8 {@code .npy} of shape {@code (N, H, W, 3)} (what {@link NpyWriter} and the training code write). */
public final class NpyReader {
    private NpyReader() {}

    public static List<RgbImage> readImages(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        if (b.length < 10 || (b[0] & 0xFF) != 0x93 || !new String(b, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY"))
            throw new IOException("not a .npy file: " + file);
        int major = b[6];
        int hl, off;
        if (major == 1) {
            hl = (b[8] & 0xFF) | (b[9] & 0xFF) << 8;
            off = 10;
        } else {
            hl = (b[8] & 0xFF) | (b[9] & 0xFF) << 8 | (b[10] & 0xFF) << 16 | (b[11] & 0xFF) << 24;
            off = 12;
        }
        String header = new String(b, off, hl, StandardCharsets.US_ASCII);
        if (!header.contains("'|u1'") && !header.contains("'u1'") && !header.contains("'<u1'"))
            throw new IOException("expected uint8 data, header: " + header);
        if (header.contains("'fortran_order': True")) throw new IOException("Fortran order is not supported");
        Matcher m = Pattern.compile("'shape': \\((\\d+), (\\d+), (\\d+), 3\\)").matcher(header);
        if (!m.find()) throw new IOException("expected shape (N, H, W, 3), header: " + header);
        int n = Integer.parseInt(m.group(1)), h = Integer.parseInt(m.group(2)), w = Integer.parseInt(m.group(3));
        int rec = h * w * 3, data = off + hl;
        if ((long) data + (long) n * rec > b.length) throw new IOException("truncated .npy: " + file);
        List<RgbImage> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] px = new byte[rec];
            System.arraycopy(b, data + i * rec, px, 0, rec);
            out.add(new RgbImage(w, h, px));
        }
        return out;
    }
}
