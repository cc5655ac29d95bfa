package io.unclip.engine.stage;

import io.unclip.engine.schedule.SchedulerConfig;
import io.unclip.engine.schedule.SchedulerObserver;

/** How a diffusion stage's step scheduler admits requests and where it reports. */
public record Scheduling(SchedulerConfig config, SchedulerObserver observer) {
    public static final Scheduling DEFAULT = new Scheduling(SchedulerConfig.DEFAULT, SchedulerObserver.NONE);

    public Scheduling {
        config = config == null ? SchedulerConfig.DEFAULT : config;
        observer = observer == null ? SchedulerObserver.NONE : observer;
    }
}
