package io.unclip.service;

import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * DOWN when the Kafka worker's poll thread died by itself (the replica would otherwise stay up
 * consuming nothing): a restart is what helps. UP while it connects or retries (readiness shows
 * that), when no Kafka is configured, and while shutting down.
 */
@Liveness
public class WorkerLivenessCheck implements HealthCheck {
    @Inject
    WorkerRuntime runtime;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("kafka worker")
                .status(runtime.alive())
                .withData("status", runtime.status())
                .build();
    }
}
