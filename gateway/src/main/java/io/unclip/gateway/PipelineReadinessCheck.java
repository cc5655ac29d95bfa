package io.unclip.gateway;

import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready only when jobs can flow through the pipeline; DOWN with the reason otherwise. */
@Readiness
public class PipelineReadinessCheck implements HealthCheck {
    @Inject
    Pipeline pipeline;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("pipeline")
                .status(pipeline.started())
                .withData("reason", pipeline.started() ? "started" : pipeline.reason())
                .build();
    }
}
