package io.unclip.gateway;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.JobState;

/**
 * The gateway's metrics on /q/metrics (histograms with fixed buckets, so that replicas aggregate):
 * <ul>
 *   <li>{@code unclip_gateway_active_streams}: client event streams open now (Generate,
 *       Variations, Interpolate, and resubmissions following a job)</li>
 *   <li>{@code unclip_gateway_first_preview_seconds}: a job's acceptance to its first preview,
 *       what a user waits before seeing anything</li>
 *   <li>{@code unclip_gateway_jobs_total{outcome, code}}: jobs accepted by this replica, by how
 *       they ended (succeeded, failed, cancelled; the failure code, "none" on success)</li>
 * </ul>
 */
@ApplicationScoped
public class GatewayMetrics {
    private static final Duration[] PREVIEW = durations(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300);

    @Inject
    MeterRegistry registry;

    private final AtomicInteger streams = new AtomicInteger();
    private Timer firstPreview;

    @PostConstruct
    void register() {
        Gauge.builder("unclip.gateway.active.streams", streams, AtomicInteger::get)
                .description("Client event streams open now").strongReference(true).register(registry);
        firstPreview = Timer.builder("unclip.gateway.first.preview")
                .description("Job accepted to its first preview").serviceLevelObjectives(PREVIEW).register(registry);
    }

    public void streamOpened() {
        streams.incrementAndGet();
    }

    public void streamClosed() {
        streams.decrementAndGet();
    }

    public int activeStreams() {
        return streams.get();
    }

    public void firstPreview(long nanos) {
        firstPreview.record(Duration.ofNanos(Math.max(0, nanos)));
    }

    public void jobEnded(JobState state, FailureCode code) {
        Counter.builder("unclip.gateway.jobs").description("Jobs accepted here, by outcome")
                .tag("outcome", state.name().toLowerCase(Locale.ROOT))
                .tag("code", code == null || code == FailureCode.FAILURE_CODE_UNSPECIFIED ? "none"
                        : code.name().toLowerCase(Locale.ROOT))
                .register(registry).increment();
    }

    private static Duration[] durations(double... seconds) {
        Duration[] d = new Duration[seconds.length];
        for (int i = 0; i < seconds.length; i++) {
            d[i] = Duration.ofNanos((long) (seconds[i] * 1e9));
        }
        return d;
    }
}
