package io.unclip.service.auth;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Every gRPC call of the service must carry {@code authorization: Bearer <key>} with a key of
 * {@code unclip.auth.keys-file} ({@link ApiKeys}) once that is set: the gateway's file holds the clients' API keys,
 * a stage service's the token the system's own components present ({@code unclip.auth.service-token-file}). No key
 * or an unknown one is UNAUTHENTICATED, a key not allowed the method PERMISSION_DENIED. Health checks stay open for
 * probes. Unset = no authentication (the embedded default and a trusted network).
 */
@ApplicationScoped
@GlobalInterceptor
@Startup
public class BearerAuthInterceptor implements ServerInterceptor {
    private static final Logger LOG = Logger.getLogger(BearerAuthInterceptor.class);
    private static final String HEALTH = "grpc.health.v1.Health/";

    @ConfigProperty(name = "unclip.auth.keys-file")
    Optional<String> keysFile;

    private volatile ApiKeys keys;

    @PostConstruct
    void load() {
        if (keysFile.isEmpty() || keysFile.get().isBlank()) {
            return;
        }
        try {
            keys = ApiKeys.load(Path.of(keysFile.get()));
        } catch (IOException | IllegalArgumentException e) {
            // refuse to start rather than serve without the keys someone meant to require
            throw new IllegalStateException("unclip.auth.keys-file " + keysFile.get() + ": " + e.getMessage(), e);
        }
        LOG.infof("gRPC calls need a bearer key: %d key(s) in %s", keys.size(), keysFile.get());
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        ApiKeys k = keys;
        String method = call.getMethodDescriptor().getFullMethodName();
        if (k == null || method.startsWith(HEALTH)) {
            return next.startCall(call, headers);
        }
        Status refused = check(k, headers.get(BearerCredentials.AUTHORIZATION), method);
        if (refused != null) {
            call.close(refused, new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return next.startCall(call, headers);
    }

    /** Why a call with this authorization header may not call {@code method}, or null when it may. */
    static Status check(ApiKeys keys, String authorization, String method) {
        if (authorization == null || authorization.isBlank()) {
            return Status.UNAUTHENTICATED.withDescription("this service needs an API key: send the metadata"
                    + " 'authorization: Bearer <key>' (unclip: --api-key-file FILE or UNCLIP_API_KEY)");
        }
        if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Status.UNAUTHENTICATED.withDescription("authorization must be 'Bearer <key>'");
        }
        Optional<ApiKeys.Key> key = keys.lookup(authorization.substring(7).strip());
        if (key.isEmpty()) {
            return Status.UNAUTHENTICATED.withDescription("API key not recognised (revoked, mistyped, or for"
                    + " another deployment)");
        }
        if (!key.get().allows(method)) {
            return Status.PERMISSION_DENIED.withDescription("API key '" + key.get().name() + "' may not call "
                    + method + " (it may call " + String.join(", ", key.get().methods()) + ")");
        }
        return null;
    }
}
