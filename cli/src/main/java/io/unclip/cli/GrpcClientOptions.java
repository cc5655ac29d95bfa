package io.unclip.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.unclip.deploy.StackSecurity;
import io.unclip.service.auth.BearerCredentials;
import io.unclip.service.auth.ClientTls;
import picocli.CommandLine.Option;

/**
 * How {@code stream} and {@code load --target} reach a gateway that serves TLS and wants an API key. Talking to the
 * running local stack, a secure one's CA and key are used unless given.
 */
final class GrpcClientOptions {
    @Option(names = "--tls", description = "Connect with TLS, trusting the JVM's CA certificates (or --ca).")
    boolean tls;

    @Option(names = "--ca", paramLabel = "FILE", description = "TLS, trusting the CA certificates in this PEM file.")
    Path ca;

    @Option(names = "--api-key-file", paramLabel = "FILE",
            description = "Send the API key in FILE (its first line) as 'authorization: Bearer'; UNCLIP_API_KEY"
                    + " in the environment does the same.")
    Path apiKeyFile;

    /** The channel's transport security; {@code stack} is the local stack's secrets when the target is its gateway. */
    ChannelCredentials channel(Environment env, Optional<StackSecurity> stack) {
        Path caFile = ca != null ? env.workDir().resolve(ca)
                : !tls && stack.isPresent() ? stack.get().caPem() : null;
        try {
            return ClientTls.credentials(tls, caFile);
        } catch (IOException | IllegalArgumentException e) {
            throw CliException.badInput("--ca: cannot read " + caFile + ": " + e.getMessage());
        }
    }

    /** The key to send with every call, if any. */
    Optional<CallCredentials> key(Environment env, Optional<StackSecurity> stack) {
        Path file = apiKeyFile != null ? env.workDir().resolve(apiKeyFile) : null;
        String fromEnv = env.env().get("UNCLIP_API_KEY");
        try {
            if (file != null) {
                return Optional.of(BearerCredentials.fromFile(file));
            }
            if (fromEnv != null && !fromEnv.isBlank()) {
                return Optional.of(new BearerCredentials(fromEnv));
            }
            if (stack.isPresent()) {
                return Optional.of(BearerCredentials.fromFile(stack.get().apiKey()));
            }
        } catch (IOException e) {
            throw CliException.badInput("--api-key-file: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw CliException.badInput("UNCLIP_API_KEY: " + e.getMessage());
        }
        return Optional.empty();
    }
}
