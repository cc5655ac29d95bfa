package io.unclip.cli.load;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.ConnectException;
import java.net.UnknownHostException;

import javax.net.ssl.SSLHandshakeException;

import org.junit.jupiter.api.Test;

import io.grpc.Status;

/** grpc-java's transport failures as the plain words the CLI prints (the statuses as grpc-java makes them). */
class GatewayErrorsTest {
    @Test
    void networkFailuresAreSaidPlainly() {
        assertEquals("cannot connect: nothing listens there (is the gateway running? ./unclip stack status)",
                GatewayErrors.what(Status.UNAVAILABLE.withDescription("io exception")
                        .withCause(new RuntimeException(new ConnectException("Connection refused"))), true, 5));
        assertEquals("cannot connect: no such host", GatewayErrors.what(Status.UNAVAILABLE
                .withDescription("Unable to resolve host nowhere.invalid")
                .withCause(new UnknownHostException("nowhere.invalid")), true, 5));
        assertEquals("no answer within 5 s (--connect-timeout); is the address right?", GatewayErrors.what(
                Status.DEADLINE_EXCEEDED.withDescription("CallOptions deadline exceeded after 4.99s. Name resolution"
                        + " delay 0.001 seconds. [closed=[], committed=[remote_addr=10.0.0.1:8080,"
                        + " connecting_and_lb_delay=4.9s]]"), true, 5));
        assertEquals("Network closed for unknown reason (if the gateway serves TLS: --tls, or --ca FILE)",
                GatewayErrors.what(Status.UNAVAILABLE.withDescription("Network closed for unknown reason"), true, 5));
        assertEquals("the TLS handshake failed: not an SSL/TLS record (a plaintext gateway? then leave out --tls and"
                + " --ca)", GatewayErrors.what(Status.UNAVAILABLE.withDescription("io exception")
                .withCause(new SSLHandshakeException("not an SSL/TLS record")), false, 5));
    }

    @Test
    void theServersOwnWordsAreKept() {
        assertEquals("prompt: must not be empty", GatewayErrors.what(Status.INVALID_ARGUMENT
                .withDescription("prompt: must not be empty"), false, 5));
        assertEquals("API key not recognised", GatewayErrors.what(Status.UNAUTHENTICATED
                .withDescription("API key not recognised"), false, 5));
    }
}
