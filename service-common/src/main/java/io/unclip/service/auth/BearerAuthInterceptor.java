package io.unclip.service.auth;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Every gRPC call of the service must carry {@code authorization: Bearer <key>} with a key of
 * {@code unclip.auth.keys-file} ({@link ServiceKeys}) once that is set: the gateway's file holds the clients' API keys,
 * a stage service's the token the system's own components present ({@code unclip.auth.service-token-file}). No key
 * or an unknown one is UNAUTHENTICATED, a key not allowed the method PERMISSION_DENIED. Health checks stay open for
 * probes. Unset = no authentication (the embedded default and a trusted network).
 */
@ApplicationScoped
@GlobalInterceptor
public class BearerAuthInterceptor implements ServerInterceptor {
    private static final String HEALTH = "grpc.health.v1.Health/";

    @Inject
    ServiceKeys serviceKeys;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        ApiKeys k = serviceKeys.keys().orElse(null);
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
        return keys.refusal(authorization, method, "send the metadata 'authorization: Bearer <key>' (unclip:"
                        + " --api-key-file FILE or UNCLIP_API_KEY)")
                .map(r -> (r.unauthenticated() ? Status.UNAUTHENTICATED : Status.PERMISSION_DENIED)
                        .withDescription(r.message()))
                .orElse(null);
    }
}
