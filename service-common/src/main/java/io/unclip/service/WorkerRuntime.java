package io.unclip.service;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import org.apache.kafka.clients.admin.Admin;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.unclip.api.v1.StageName;
import io.unclip.service.codec.BlobStore;
import io.unclip.service.codec.ProtoTensors;
import io.unclip.service.kafka.CancellationTracker;
import io.unclip.service.kafka.KafkaClientProperties;
import io.unclip.service.kafka.KafkaFailures;
import io.unclip.service.kafka.KafkaSettings;
import io.unclip.service.kafka.StageHandler;
import io.unclip.service.kafka.StageWorker;
import io.unclip.service.kafka.TaskReader;
import io.unclip.service.kafka.Topics;
import io.unclip.service.kafka.WorkerStack;
import io.unclip.service.stage.StageModel;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

/**
 * Starts this service's Kafka worker once its model is loaded, when {@code kafka.bootstrap.servers}
 * is set (without it the service only serves gRPC). The service provides the stage logic as a
 * {@link StageHandler} bean; this bean owns the Kafka clients: the producer shared by outputs,
 * events and dead letters, the cancellation tracker and the {@link StageWorker}.
 *
 * <p>Configuration: {@code unclip.instance-id} (default host-pid), {@code unclip.kafka.partitions}
 * (partitions of topics it creates, default 8), {@code unclip.kafka.create-topics} (default true),
 * {@code unclip.kafka.session-timeout-ms} (default 6000), {@code unclip.worker.consume-jobs} (also
 * read unclip.jobs: the text encoder's job bridge), {@code unclip.worker.max-in-flight} (records a
 * replica runs at once, sharing the stage's step scheduler; default 4), {@code unclip.results.dir} (JSON results'
 * images), {@code unclip.blobs.dir} (large tensors), {@code unclip.events.progress-interval-ms}.
 */
@ApplicationScoped
public class WorkerRuntime {
    private static final Logger LOG = Logger.getLogger(WorkerRuntime.class);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    Optional<String> bootstrapServers;

    @ConfigProperty(name = "unclip.instance-id")
    Optional<String> instanceId;

    @ConfigProperty(name = "unclip.kafka.partitions", defaultValue = "8")
    int partitions;

    @ConfigProperty(name = "unclip.kafka.create-topics", defaultValue = "true")
    boolean createTopics;

    @ConfigProperty(name = "unclip.kafka.session-timeout-ms", defaultValue = "6000")
    int sessionTimeoutMs;

    @ConfigProperty(name = "unclip.worker.consume-jobs", defaultValue = "false")
    boolean consumeJobs;

    @ConfigProperty(name = "unclip.worker.max-attempts", defaultValue = "3")
    int maxAttempts;

    @ConfigProperty(name = "unclip.worker.max-in-flight", defaultValue = "4")
    int maxInFlight;

    @ConfigProperty(name = "unclip.results.dir")
    Optional<String> resultsDir;

    @ConfigProperty(name = "unclip.blobs.dir")
    Optional<String> blobsDir;

    @ConfigProperty(name = "unclip.events.progress-interval-ms", defaultValue = "100")
    long progressIntervalMs;

    @Inject
    Instance<StageHandler> handlers;

    @Inject
    StageModel model;

    @Inject
    MeterRegistry registry;

    /** quarkus-opentelemetry's SDK (a no-op one while quarkus.otel.sdk.disabled=true). */
    @Inject
    Instance<OpenTelemetry> telemetry;

    private volatile String status = "not started";
    private volatile boolean started;
    private volatile WorkerStack stack;
    private volatile boolean stopping;
    private ProtoTensors tensors;

    void onStart(@Observes StartupEvent ev) {
        tensors = new ProtoTensors(new BlobStore(blobsDir.map(Path::of)
                .orElse(Path.of(System.getProperty("java.io.tmpdir"), "unclip-blobs"))), ProtoTensors.DEFAULT_INLINE_LIMIT);
        if (bootstrapServers.isEmpty() || bootstrapServers.get().isBlank()) {
            status = "kafka not configured (kafka.bootstrap.servers unset): gRPC only";
            started = true;
            return;
        }
        if (!handlers.isResolvable()) {
            status = "no stage handler in this service: gRPC only";
            started = true;
            return;
        }
        status = "waiting for the model";
        model.loaded().thenAcceptAsync(l -> {
            // Kafka may come up after this service (Kubernetes): keep trying
            while (!stopping) {
                try {
                    startWorker();
                    return;
                } catch (RuntimeException e) {
                    status = "worker not started (retrying in 5 s): " + KafkaFailures.explain(e);
                    LOG.warnf("%s", status);
                    try {
                        Thread.sleep(5000);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        });
    }

    private synchronized void startWorker() {
        StageHandler handler = handlers.get();
        StageName stage = handler.stage();
        String instance = instance();
        KafkaSettings settings = new KafkaSettings(bootstrapServers.get(), sessionTimeoutMs,
                KafkaClientProperties.from(org.eclipse.microprofile.config.ConfigProvider.getConfig()));
        String label = stage.name().toLowerCase(java.util.Locale.ROOT);
        if (createTopics) {
            status = "creating topics";
            try (Admin admin = Admin.create(settings.admin("unclip-" + label + "-admin-" + instance))) {
                Topics.ensure(admin, partitions, (short) 0, 30_000);
            }
        }
        StageWorker.Config config = new StageWorker.Config(stage, java.util.Map.of(Topics.forStage(stage),
                TaskReader.stageTasks(stage)), Topics.groupFor(stage), instance, maxAttempts, Duration.ofSeconds(10),
                maxInFlight);
        if (consumeJobs) {
            config = config.withReader(Topics.JOBS, TaskReader.jobs());
        }
        stack = WorkerStack.start(settings, config, handler, resultsPath(), progressIntervalMs, registry,
                Duration.ofMinutes(10), telemetry.isResolvable() ? telemetry.get() : OpenTelemetry.noop());
        status = "consuming " + String.join(", ", config.readers().keySet()) + " as group " + config.groupId();
        started = true;
        LOG.infof("%s worker %s: %s", label, instance, status);
    }

    Path resultsPath() {
        return resultsDir.map(Path::of).orElse(Path.of(System.getProperty("java.io.tmpdir"), "unclip-results"));
    }

    void onStop(@Observes ShutdownEvent ev) {
        stopping = true;
        WorkerStack s = stack;
        if (s != null) {
            s.close();
        }
    }

    /** Tensor conversion with this service's blob store. */
    public ProtoTensors tensors() {
        return tensors;
    }

    /** The worker, once started. */
    public Optional<StageWorker> worker() {
        return Optional.ofNullable(stack).map(WorkerStack::worker);
    }

    /** The cancellation tracker of the worker, once started (gRPC calls may also consult it). */
    public Optional<CancellationTracker> cancellations() {
        return Optional.ofNullable(stack).map(WorkerStack::cancellations);
    }

    /** Whether the worker runs (or is not wanted); what it is doing. */
    public boolean healthy() {
        StageWorker w = worker().orElse(null);
        return started && (w == null || w.isRunning());
    }

    /**
     * False only when the worker was started and its poll thread has since died by itself: not
     * while it is still connecting, nor when no worker is wanted, nor while shutting down.
     */
    public boolean alive() {
        StageWorker w = worker().orElse(null);
        return stopping || w == null || !w.diedUnexpectedly();
    }

    public String status() {
        StageWorker w = worker().orElse(null);
        if (w != null && !w.isRunning()) {
            return "worker stopped: " + w.failure();
        }
        return status;
    }

    public String instance() {
        return instanceId.filter(s -> !s.isBlank()).orElseGet(WorkerRuntime::defaultInstance);
    }

    /** host-pid: a replica's default instance id. */
    public static String defaultInstance() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "localhost";
        }
        return host + "-" + ManagementFactory.getRuntimeMXBean().getPid();
    }
}
