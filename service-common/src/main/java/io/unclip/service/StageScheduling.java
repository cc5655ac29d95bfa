package io.unclip.service;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.micrometer.core.instrument.MeterRegistry;
import io.unclip.engine.schedule.SchedulerConfig;
import io.unclip.engine.stage.Scheduling;

/**
 * How this service's model calls are batched: its gRPC calls and its Kafka worker's records share
 * one step scheduler per diffusion model, or one call batcher for the text encoder and the
 * captioner (which use max-rows and max-queued), configured here and reported on /q/metrics
 * ({@link SchedulerMetrics}).
 *
 * <ul>
 *   <li>{@code unclip.scheduler.max-rows} (64): most model rows in one call</li>
 *   <li>{@code unclip.scheduler.max-active-rows} (256): most rows sampling at once; more wait</li>
 *   <li>{@code unclip.scheduler.admission-wait-ms} (0): how long an idle scheduler waits for
 *       company before its first step</li>
 *   <li>{@code unclip.scheduler.max-queued} (256): requests that may wait; one more is refused
 *       (gRPC RESOURCE_EXHAUSTED; the Kafka worker takes no record until there is room)</li>
 *   <li>{@code unclip.scheduler.deadlines} (true): earliest deadline first, else FIFO</li>
 * </ul>
 */
@ApplicationScoped
public class StageScheduling {
    @ConfigProperty(name = "unclip.scheduler.max-rows", defaultValue = "64")
    int maxRows;

    @ConfigProperty(name = "unclip.scheduler.max-active-rows", defaultValue = "256")
    int maxActiveRows;

    @ConfigProperty(name = "unclip.scheduler.admission-wait-ms", defaultValue = "0")
    long admissionWaitMs;

    @ConfigProperty(name = "unclip.scheduler.max-queued", defaultValue = "256")
    int maxQueued;

    @ConfigProperty(name = "unclip.scheduler.deadlines", defaultValue = "true")
    boolean deadlines;

    @Inject
    MeterRegistry registry;

    /** The settings every stage of this service is built with. */
    public Scheduling scheduling() {
        return new Scheduling(new SchedulerConfig(maxRows, maxActiveRows, Duration.ofMillis(admissionWaitMs),
                maxQueued, deadlines), new SchedulerMetrics(registry));
    }
}
