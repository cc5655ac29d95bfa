package io.unclip.service;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.unclip.service.stage.StageModel;
import jakarta.inject.Inject;

/** Ready only when the stage model is loaded; DOWN with the reason otherwise. */
@Readiness
public class ModelReadinessCheck implements HealthCheck {
    @Inject
    StageModel model;

    @ConfigProperty(name = "unclip.stage.label")
    String label;

    @Override
    public HealthCheckResponse call() {
        StageModel.Availability a = model.availability();
        return HealthCheckResponse.named(label + " model")
                .status(a.loaded())
                .withData("reason", a.reason())
                .build();
    }
}
