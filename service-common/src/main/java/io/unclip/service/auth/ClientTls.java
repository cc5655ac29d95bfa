package io.unclip.service.auth;

import java.io.IOException;
import java.nio.file.Path;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;

/** The transport security of a channel the system opens: plaintext, TLS with the JVM's CAs, or TLS with one CA. */
public final class ClientTls {
    private ClientTls() {
    }

    /**
     * @param tls whether to use TLS
     * @param ca  a PEM file of the CA certificates to trust instead of the JVM's (implies TLS), or null
     */
    public static ChannelCredentials credentials(boolean tls, Path ca) throws IOException {
        if (ca != null) {
            return TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build();
        }
        return tls ? TlsChannelCredentials.create() : InsecureChannelCredentials.create();
    }
}
