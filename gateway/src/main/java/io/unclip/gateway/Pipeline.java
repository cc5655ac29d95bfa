package io.unclip.gateway;

import jakarta.enterprise.context.ApplicationScoped;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The gateway's view of the distributed pipeline (Kafka producer for unclip.jobs and stage
 * topics, consumers of unclip.events / unclip.results). Not wired yet: every job submission is
 * refused with UNAVAILABLE, and readiness is DOWN, with {@link #reason()}.
 */
@ApplicationScoped
public class Pipeline {

    public boolean started() {
        return false;
    }

    public String reason() {
        return "distributed pipeline not started: this gateway build has no Kafka connection to the stage services";
    }

    public StatusRuntimeException unavailable() {
        return Status.UNAVAILABLE.withDescription(reason()).asRuntimeException();
    }
}
