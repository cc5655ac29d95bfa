package io.unclip.service.codec;

import java.io.IOException;
import java.io.InputStream;
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

import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.validate.Checks;

/**
 * A content-addressed blob store in a directory (FloatTensor.uri / ImageRef.uri "file:///..."):
 * large tensors travel between stages as a reference instead of inline. Objects are named by the
 * SHA-256 of their bytes, so writing the same content twice (a redelivered task) is harmless.
 * Every service of a deployment must see the same directory (one machine, or a shared volume).
 *
 * <p>URIs come from requests, so reading is guarded: a URI must name a regular file inside the
 * store (after resolving {@code ..} and symbolic links) of exactly the expected size, and its
 * bytes must have the stated digest. Anything else is one and the same
 * {@link InvalidRequestException}, which says nothing about the file (not its digest, not
 * whether it exists), and nothing is read before the size is known to fit.
 */
public final class BlobStore {
    private final Path dir;

    public BlobStore(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
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

    /**
     * Reads the blob at {@code uri}, which must hold exactly {@code bytes} bytes with SHA-256
     * {@code sha256}.
     *
     * @param field the request field of the URI ("image_embeds.uri"), for the error
     * @throws InvalidRequestException when the URI is not a blob of this store of that size, or
     *                                 its bytes do not have that digest
     */
    public byte[] get(String field, String uri, String sha256, long bytes) {
        Path file = resolve(field, uri);
        try {
            if (bytes > Integer.MAX_VALUE - 16 || Files.size(file) != bytes) {
                throw notOurs(field);
            }
        } catch (IOException e) {
            throw notOurs(field);
        }
        byte[] content;
        try (InputStream in = Files.newInputStream(file)) {
            content = in.readNBytes((int) bytes); // never more than was checked, even if the file grew
        } catch (IOException e) {
            throw notOurs(field);
        }
        if (content.length != bytes || !sha256(content).equals(sha256)) {
            throw Checks.invalid(field, "the blob does not match its sha256");
        }
        return content;
    }

    /** The regular file inside the store that {@code uri} names, links resolved. */
    private Path resolve(String field, String uri) {
        Path file;
        try {
            URI u = new URI(uri);
            if (!"file".equals(u.getScheme())) {
                throw notOurs(field);
            }
            file = Path.of(u).normalize();
        } catch (java.net.URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            throw notOurs(field);
        }
        if (!file.startsWith(dir)) {
            throw notOurs(field);
        }
        try {
            Path real = file.toRealPath();
            if (!real.startsWith(dir.toRealPath()) || !Files.isRegularFile(real)) {
                throw notOurs(field);
            }
            return real;
        } catch (IOException e) {
            throw notOurs(field);
        }
    }

    /** The one answer for a URI this store will not read: it must not tell one reason from another. */
    private static InvalidRequestException notOurs(String field) {
        return Checks.invalid(field, "not a blob of this deployment's store");
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
