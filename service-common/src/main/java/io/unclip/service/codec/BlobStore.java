package io.unclip.service.codec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A content-addressed blob store in a directory (FloatTensor.uri / ImageRef.uri "file:///..."):
 * large tensors travel between stages as a reference instead of inline. Objects are named by the
 * SHA-256 of their bytes, so writing the same content twice (a redelivered task) is harmless.
 * Every service of a deployment must see the same directory (one machine, or a shared volume).
 */
public final class BlobStore {
    private final Path dir;

    public BlobStore(Path dir) {
        this.dir = dir.toAbsolutePath();
    }

    public Path dir() {
        return dir;
    }

    /** Stores {@code bytes}; returns its URI and digest. */
    public Stored put(byte[] bytes) {
        String sha = sha256(bytes);
        Path file = dir.resolve(sha.substring(0, 2)).resolve(sha);
        try {
            if (!Files.exists(file)) {
                Files.createDirectories(file.getParent());
                Path tmp = Files.createTempFile(file.getParent(), sha, ".tmp");
                Files.write(tmp, bytes);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write blob to " + file, e);
        }
        return new Stored(file.toUri().toString(), sha);
    }

    /** Reads the object at {@code uri} and checks its digest. */
    public byte[] get(String uri, String sha256) {
        URI u = URI.create(uri);
        if (!"file".equals(u.getScheme())) {
            throw new IllegalArgumentException("blob " + uri + ": only file: URIs are supported by this store");
        }
        Path file = Path.of(u);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read blob " + uri, e);
        }
        String actual = sha256(bytes);
        if (!actual.equals(sha256)) {
            throw new IllegalArgumentException("blob " + uri + " has SHA-256 " + actual + ", the record says " + sha256);
        }
        return bytes;
    }

    public record Stored(String uri, String sha256) {
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] littleEndian(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b.array();
    }

    static float[] floats(byte[] bytes) {
        float[] out = new float[bytes.length / Float.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}
