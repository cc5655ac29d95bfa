package io.unclip.service;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** A grpc.health.v1 call sees the readiness of this moment, not of the last timer tick. */
@GlobalInterceptor
@ApplicationScoped
public class HealthCallRefresh implements ServerInterceptor {
    static final String HEALTH_SERVICE = "grpc.health.v1.Health";

    @Inject
    GrpcHealthFollowsReadiness health;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        if (HEALTH_SERVICE.equals(call.getMethodDescriptor().getServiceName())) {
            health.refresh();
        }
        return next.startCall(call, headers);
    }
}
