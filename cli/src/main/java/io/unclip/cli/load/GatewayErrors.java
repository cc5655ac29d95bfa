package io.unclip.cli.load;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;

import javax.net.ssl.SSLException;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A failed gateway call in one line of plain words: {@code gateway HOST:PORT: CODE: what happened}, where what
 * happened for the network is said as a person would ("nothing listens there", "no such host", "no answer within
 * 5 s") instead of grpc-java's transport text ({@code io exception}, {@code CallOptions deadline exceeded after ...
 * committed=[connecting_and_lb_delay=...]}).
 */
public final class GatewayErrors {
    private GatewayErrors() {
    }

    /**
     * @param plaintext whether the channel had no TLS (a TLS-only gateway then looks like a broken connection)
     * @param connectTimeoutSeconds the connect timeout the channel had, for the "no answer" case
     */
    public static String describe(String target, StatusRuntimeException e, boolean plaintext,
                                  int connectTimeoutSeconds) {
        Status s = e.getStatus();
        return "gateway " + target + ": " + s.getCode() + ": " + what(s, plaintext, connectTimeoutSeconds);
    }

    static String what(Status s, boolean plaintext, int connectTimeoutSeconds) {
        Throwable root = root(s.getCause());
        String description = s.getDescription() == null ? "" : s.getDescription();
        if (s.getCode() == Status.Code.UNAVAILABLE) {
            if (root instanceof ConnectException) {
                return "cannot connect: nothing listens there (is the gateway running? ./unclip stack status)";
            }
            if (root instanceof UnknownHostException || root instanceof UnresolvedAddressException
                    || description.startsWith("Unable to resolve host")) {
                return "cannot connect: no such host";
            }
            if (root instanceof SSLException) {
                return "the TLS handshake failed: " + root.getMessage()
                        + (plaintext ? "" : " (a plaintext gateway? then leave out --tls and --ca)");
            }
            if (plaintext) {
                String said = description.isEmpty() || description.equals("io exception")
                        ? "the connection broke" : description;
                return said + " (if the gateway serves TLS: --tls, or --ca FILE)";
            }
        }
        if (s.getCode() == Status.Code.DEADLINE_EXCEEDED && description.contains("connecting")) {
            return "no answer within " + connectTimeoutSeconds + " s (--connect-timeout); is the address right?";
        }
        if (description.isEmpty()) {
            return root != null && root.getMessage() != null ? root.getMessage() : "no details";
        }
        return description;
    }

    private static Throwable root(Throwable t) {
        Throwable r = t;
        while (r != null && r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r;
    }
}
