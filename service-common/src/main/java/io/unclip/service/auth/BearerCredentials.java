package io.unclip.service.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Executor;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Status;

/**
 * Sends {@code authorization: Bearer <key>} with every call: the client side of {@link BearerAuthInterceptor}.
 * Needs only grpc-api (the CLI has no Quarkus).
 */
public final class BearerCredentials extends CallCredentials {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization",
            Metadata.ASCII_STRING_MARSHALLER);
    private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "[::1]");
    private final Metadata header = new Metadata();

    public BearerCredentials(String key) {
        if (key == null || key.isBlank() || !key.strip().chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("an API key is printable ASCII without spaces");
        }
        header.put(AUTHORIZATION, "Bearer " + key.strip());
    }

    /** The key in {@code file} (its first line; a trailing newline is fine). */
    public static BearerCredentials fromFile(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8).strip();
        int nl = text.indexOf('\n');
        try {
            return new BearerCredentials(nl >= 0 ? text.substring(0, nl) : text);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage());
        }
    }

    @Override
    public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        if (info.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY
                && !LOOPBACK.contains(hostOf(info.getAuthority()))) {
            // a key sent in the clear to another machine is a key given away
            applier.fail(Status.UNAUTHENTICATED.withDescription("refusing to send an API key without TLS to "
                    + info.getAuthority() + " (use --tls)"));
            return;
        }
        applier.apply(header);
    }

    private static String hostOf(String authority) {
        if (authority == null) {
            return "";
        }
        int colon = authority.lastIndexOf(':');
        return colon > 0 ? authority.substring(0, colon) : authority;
    }
}
