package io.unclip.service;

import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** DOWN while the Kafka worker is wanted but not consuming (or has stopped), with the reason. */
@Readiness
public class WorkerReadinessCheck implements HealthCheck {
    @Inject
    WorkerRuntime runtime;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("kafka worker")
                .status(runtime.healthy())
                .withData("status", runtime.status())
                .build();
    }
}
