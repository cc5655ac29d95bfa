package io.unclip.service.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The bearer tokens a service accepts, read from a file of their SHA-256 hashes (never the keys themselves), one
 * per line: {@code sha256:<64 hex> <name> [<method>,...]}. A method is a gRPC full method name
 * ({@code unclip.v1.ImageService/GetJob}) or a service with {@code /*}; none means every method. {@code #} starts a
 * comment. The file is read again when it changes (checked at most once a second), so keys are added and revoked
 * without a restart; a file that no longer parses keeps the last good keys and says why in {@link #problem()}.
 *
 * <p>Keys are 32 random bytes, so a plain SHA-256 is enough to keep a leaked file from giving them away (a slow,
 * salted hash is for guessable passwords).
 */
public final class ApiKeys {
    /** A key's name and the methods it may call. */
    public record Key(String name, List<String> methods) {
        public Key {
            methods = List.copyOf(methods);
        }

        /** Whether this key may call {@code fullMethod} ({@code package.Service/Method}). */
        public boolean allows(String fullMethod) {
            if (methods.isEmpty()) {
                return true;
            }
            String service = fullMethod.substring(0, Math.max(0, fullMethod.indexOf('/')));
            return methods.stream().anyMatch(m -> m.equals(fullMethod) || m.equals(service + "/*"));
        }
    }

    /** Why a call may not go ahead: no or an unknown key ({@code unauthenticated}), or a key not allowed the method. */
    public record Refusal(boolean unauthenticated, String message) {
    }

    private record Entry(byte[] hash, Key key) {
    }

    private record Stamp(long modified, long size) {
    }

    static final String PREFIX = "sha256:";
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern METHOD = Pattern.compile("[A-Za-z_][\\w.]*/(\\*|[A-Za-z_]\\w*)");
    private static final long RECHECK_NANOS = 1_000_000_000L;

    private final Path file;
    private volatile List<Entry> entries = List.of();
    private volatile Stamp stamp;
    private volatile long checkedAt;
    private volatile String problem;

    private ApiKeys(Path file) {
        this.file = file;
    }

    /** Reads {@code file}; an unreadable or malformed file at start is an error (a typo must not open the door). */
    public static ApiKeys load(Path file) throws IOException {
        ApiKeys keys = new ApiKeys(file);
        keys.entries = parse(Files.readAllLines(file, StandardCharsets.UTF_8), file);
        keys.stamp = stamp(file);
        keys.checkedAt = System.nanoTime();
        return keys;
    }

    /** The key {@code token} is, if it is one of the file's. */
    public Optional<Key> lookup(String token) {
        reloadIfChanged();
        byte[] h = sha256(token);
        Key found = null;
        for (Entry e : entries) {
            // constant time per entry: no early exit on the first differing byte
            if (MessageDigest.isEqual(e.hash(), h)) {
                found = e.key();
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * Why a call with this {@code Authorization} value ({@code Bearer <key>}) may not call {@code fullMethod}, or
     * empty when it may: the one rule of every door (gRPC metadata, HTTP header).
     *
     * @param howToSend what a caller without a key should do, for the message
     */
    public Optional<Refusal> refusal(String authorization, String fullMethod, String howToSend) {
        if (authorization == null || authorization.isBlank()) {
            return Optional.of(new Refusal(true, "this service needs an API key: " + howToSend));
        }
        if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.of(new Refusal(true, "authorization must be 'Bearer <key>'"));
        }
        Optional<Key> key = lookup(authorization.substring(7).strip());
        if (key.isEmpty()) {
            return Optional.of(new Refusal(true, "API key not recognised (revoked, mistyped, or for another"
                    + " deployment)"));
        }
        if (!key.get().allows(fullMethod)) {
            return Optional.of(new Refusal(false, "API key '" + key.get().name() + "' may not call " + fullMethod
                    + " (it may call " + String.join(", ", key.get().methods()) + ")"));
        }
        return Optional.empty();
    }

    /** Why the last reload was refused (the previous keys still apply), or null. */
    public String problem() {
        return problem;
    }

    /** The number of keys in force. */
    public int size() {
        reloadIfChanged();
        return entries.size();
    }

    private void reloadIfChanged() {
        long now = System.nanoTime();
        if (now - checkedAt < RECHECK_NANOS) {
            return;
        }
        synchronized (this) {
            if (now - checkedAt < RECHECK_NANOS) {
                return;
            }
            checkedAt = now;
            try {
                Stamp s = stamp(file);
                if (s.equals(stamp)) {
                    return;
                }
                entries = parse(Files.readAllLines(file, StandardCharsets.UTF_8), file);
                stamp = s;
                problem = null;
            } catch (IOException | IllegalArgumentException e) {
                problem = e.getMessage();
            }
        }
    }

    private static Stamp stamp(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        return new Stamp(a.lastModifiedTime().toMillis(), a.size());
    }

    static List<Entry> parse(List<String> lines, Path file) {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            line = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = file + " line " + (i + 1);
            String[] f = line.split("\\s+");
            if (f.length < 2 || f.length > 3 || !f[0].startsWith(PREFIX)
                    || !HEX.matcher(f[0].substring(PREFIX.length())).matches()) {
                throw new IllegalArgumentException(where + ": expected 'sha256:<64 lower-case hex> NAME [METHODS]'");
            }
            List<String> methods = f.length == 3 ? List.of(f[2].split(",")) : List.of();
            for (String m : methods) {
                if (!METHOD.matcher(m).matches()) {
                    throw new IllegalArgumentException(where + ": '" + m
                            + "' is not a gRPC method (package.Service/Method or package.Service/*)");
                }
            }
            out.add(new Entry(HexFormat.of().parseHex(f[0].substring(PREFIX.length())), new Key(f[1], methods)));
        }
        return List.copyOf(out);
    }

    /** A new random key ({@code uk_} and 43 base64url characters). */
    public static String newKey() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return "uk_" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** The file line for {@code key}: what a keys file stores instead of it. */
    public static String line(String key, String name, List<String> methods) {
        if (!name.matches("[\\w.@-]+")) {
            throw new IllegalArgumentException("key name '" + name + "': letters, digits and . _ @ - only");
        }
        for (String m : methods) {
            if (!METHOD.matcher(m).matches()) {
                throw new IllegalArgumentException("'" + m + "' is not a gRPC method (package.Service/Method or"
                        + " package.Service/*)");
            }
        }
        return PREFIX + HexFormat.of().formatHex(sha256(key)) + " " + name
                + (methods.isEmpty() ? "" : " " + String.join(",", methods));
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
