package io.unclip.service;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.quarkus.grpc.runtime.health.GrpcHealthCheck;
import io.quarkus.grpc.runtime.health.GrpcHealthStorage;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

/**
 * Makes the gRPC health service (grpc.health.v1, {@code quarkus.grpc.server.health.enabled}) say
 * what readiness says. Quarkus writes SERVING into its {@link GrpcHealthStorage} for the server
 * ("") and every service once, when the gRPC server starts, and never changes it; gRPC probes and
 * load balancers would then send calls to a replica whose model or worker is not up. This sets
 * every entry to NOT_SERVING while any readiness check is DOWN, and back to SERVING: before each
 * health call ({@link HealthCallRefresh}) and every second (for Watch streams).
 *
 * <p>Quarkus' own readiness check "gRPC Server" reads that storage, so it is left out of the
 * verdict (it would otherwise keep the status DOWN once set). Readiness checks are cheap reads of
 * volatile state here, so running them on the calling thread is fine.
 */
@ApplicationScoped
public class GrpcHealthFollowsReadiness {
    private static final Logger LOG = Logger.getLogger(GrpcHealthFollowsReadiness.class);

    @Inject
    @Readiness
    Instance<HealthCheck> checks;

    @Inject
    Instance<GrpcHealthStorage> storage;

    private ScheduledExecutorService timer;
    private volatile ServingStatus last;

    void onStart(@Observes StartupEvent ev) {
        if (!storage.isResolvable()) {
            return; // gRPC health disabled
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "unclip-grpc-health");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::refreshQuietly, 0, 1, TimeUnit.SECONDS);
    }

    void onStop(@Observes ShutdownEvent ev) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            LOG.warnf(e, "gRPC health not updated");
        }
    }

    /** Evaluates the readiness checks and writes the verdict into the gRPC health storage; returns it. */
    public ServingStatus refresh() {
        if (!storage.isResolvable()) {
            return ServingStatus.UNKNOWN;
        }
        ServingStatus status = ServingStatus.SERVING;
        List<String> down = new java.util.ArrayList<>();
        for (HealthCheck check : checks) {
            if (check instanceof GrpcHealthCheck) {
                continue;
            }
            HealthCheckResponse r = check.call();
            if (r.getStatus() != HealthCheckResponse.Status.UP) {
                status = ServingStatus.NOT_SERVING;
                down.add(r.getName());
            }
        }
        GrpcHealthStorage s = storage.get();
        // "" first: Quarkus fills the per-service entries only when the server starts
        s.setStatus(GrpcHealthStorage.DEFAULT_SERVICE_NAME, status);
        for (String service : List.copyOf(s.getStatuses().keySet())) {
            s.setStatus(service, status);
        }
        if (status != last) {
            LOG.infof("gRPC health: %s%s", status, down.isEmpty() ? "" : " (readiness DOWN: " + down + ")");
            last = status;
        }
        return status;
    }
}
