package io.unclip.gateway;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.JobCancelled;
import io.unclip.api.v1.JobEvent;
import io.unclip.api.v1.ResultFormat;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.model.BundleManifest;
import io.unclip.engine.model.ModelRepository;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.pipeline.CascadePlan;
import io.unclip.service.kafka.BroadcastConsumer;
import io.unclip.service.kafka.EventPublisher;
import io.unclip.service.kafka.KafkaClientProperties;
import io.unclip.service.kafka.KafkaFailures;
import io.unclip.service.kafka.KafkaSettings;
import io.unclip.service.kafka.RecordHeaders;
import io.unclip.service.record.Records;
import io.unclip.service.kafka.ResultPublisher;
import io.unclip.service.kafka.Topics;
import io.unclip.service.telemetry.TraceHeaders;

/**
 * The gateway's side of the distributed pipeline. With {@code kafka.bootstrap.servers} set it
 * creates the topics if needed, opens a producer (job tasks to stage.text-encoder, accepted and
 * cancelled events, cancelled results) and a broadcast consumer of unclip.events,
 * unclip.results and unclip.dead-letter that reads every partition itself (so every gateway
 * replica sees every job's events, like a consumer group of its own) and feeds the
 * {@link JobHub}. It is started (readiness UP, jobs accepted) once that consumer is positioned,
 * so no event of a job accepted afterwards can be missed.
 *
 * <p>With {@code unclip.models.dir} set it also reads the bundle's manifests to check sizes at
 * the edge and announce each job's plan; without it the text encoder checks sizes.
 *
 * <p>Every record it writes carries the current trace context ({@link TraceHeaders}): callers
 * make the job's trace current. The producer's own metrics are on /q/metrics (kafka_producer_*).
 */
@ApplicationScoped
public class Pipeline {
    private static final Logger LOG = Logger.getLogger(Pipeline.class);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    Optional<String> bootstrapServers;

    @ConfigProperty(name = "unclip.instance-id")
    Optional<String> instanceId;

    @ConfigProperty(name = "unclip.kafka.partitions", defaultValue = "8")
    int partitions;

    @ConfigProperty(name = "unclip.kafka.create-topics", defaultValue = "true")
    boolean createTopics;

    @ConfigProperty(name = "unclip.models.dir")
    Optional<String> modelsDir;

    @Inject
    JobHub hub;

    @Inject
    MeterRegistry registry;

    private volatile boolean started;
    private volatile boolean stopping;
    private volatile String reason = "distributed pipeline not started: kafka.bootstrap.servers is not set";
    private volatile Producer<String, byte[]> producer;
    private volatile KafkaClientMetrics producerMetrics;
    private volatile EventPublisher events;
    private volatile ResultPublisher results;
    private volatile BroadcastConsumer feed;
    private volatile CascadePlan plan;
    private String instance;

    void onStart(@Observes StartupEvent ev) {
        instance = instanceId.filter(s -> !s.isBlank()).orElseGet(io.unclip.service.WorkerRuntime::defaultInstance);
        modelsDir.map(String::trim).filter(s -> !s.isEmpty()).ifPresent(d -> plan = readPlan(Path.of(d)));
        if (bootstrapServers.isEmpty() || bootstrapServers.get().isBlank()) {
            return;
        }
        reason = "distributed pipeline not started: connecting to Kafka at " + bootstrapServers.get();
        Thread t = new Thread(this::connect, "unclip-gateway-connect");
        t.setDaemon(true);
        t.start();
    }

    private void connect() {
        KafkaSettings settings;
        try {
            settings = new KafkaSettings(bootstrapServers.get(), KafkaSettings.DEFAULT_SESSION_TIMEOUT_MS,
                    KafkaClientProperties.from(org.eclipse.microprofile.config.ConfigProvider.getConfig()));
        } catch (IllegalArgumentException e) {
            reason = "distributed pipeline not started: " + e.getMessage(); // a configuration error: no retry helps
            LOG.errorf("%s", reason);
            return;
        }
        while (!stopping && !started) {
            try {
                if (createTopics) {
                    try (Admin admin = Admin.create(settings.admin("unclip-gateway-admin-" + instance))) {
                        Topics.ensure(admin, partitions, (short) 0, 30_000);
                    }
                }
                if (producer == null) {
                    producer = new KafkaProducer<>(settings.producer("unclip-gateway-" + instance));
                    producerMetrics = new KafkaClientMetrics(producer);
                    producerMetrics.bindTo(registry);
                    events = new EventPublisher(producer, "gateway/" + instance, 0);
                    results = new ResultPublisher(producer, Path.of(System.getProperty("java.io.tmpdir")));
                }
                BroadcastConsumer f = new BroadcastConsumer(settings, "unclip-gateway-feed-" + instance,
                        List.of(Topics.EVENTS, Topics.RESULTS, Topics.DEAD_LETTER), Duration.ZERO, hub::onRecord).start();
                if (!f.awaitReady(Duration.ofSeconds(60))) {
                    f.close();
                    throw new IllegalStateException("the event consumer did not start within 60 s: " + f.failure());
                }
                feed = f;
                // jobs that ended while this replica was down (or before it started) are in the results log:
                // read its last hour, after the live feed is positioned so that nothing falls in between
                long replayed;
                try {
                    replayed = BroadcastConsumer.replay(settings, "unclip-gateway-replay-" + instance,
                            List.of(Topics.RESULTS, Topics.DEAD_LETTER), JobHub.RETENTION, Duration.ofMinutes(5),
                            hub::onRecord);
                } catch (RuntimeException e) {
                    f.close();
                    feed = null;
                    throw e;
                }
                LOG.infof("gateway %s: %d result and dead-letter records of the last %s read", instance, replayed,
                        JobHub.RETENTION);
                started = true;
                reason = "started: " + bootstrapServers.get();
                LOG.infof("gateway %s connected to Kafka at %s", instance, bootstrapServers.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                reason = "distributed pipeline not started: " + KafkaFailures.explain(e);
                LOG.warnf("%s; retrying in 5 s", reason);
                try {
                    Thread.sleep(5000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    void onStop(@Observes ShutdownEvent ev) {
        stopping = true;
        started = false;
        if (feed != null) {
            feed.close();
        }
        if (events != null) {
            events.close();
        }
        if (producerMetrics != null) {
            producerMetrics.close();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    public boolean started() {
        return started && feed != null && feed.failure() == null;
    }

    public String reason() {
        BroadcastConsumer f = feed;
        if (f != null && f.failure() != null) {
            return "distributed pipeline stopped: the event consumer failed: " + f.failure();
        }
        return reason;
    }

    /** The bundle's cascade, when unclip.models.dir is set and readable. */
    public Optional<CascadePlan> plan() {
        return Optional.ofNullable(plan);
    }

    public String instance() {
        return instance;
    }

    /**
     * Announces the job (accepted event, so that every gateway replica knows it) and queues its
     * first task; completes when the broker has the task. Both carry the current trace context.
     */
    public CompletableFuture<Void> submit(StageTask task, GenerateEvent accepted) {
        events.publish(Records.event(task.getJobId(), null, 0, accepted.toBuilder(), events.instance()));
        ProducerRecord<String, byte[]> rec = new ProducerRecord<>(Topics.TEXT_ENCODER, task.getJobId(), task.toByteArray());
        RecordHeaders.put(rec.headers(), RecordHeaders.RESULT_FORMAT, RecordHeaders.PROTOBUF);
        TraceHeaders.inject(rec.headers());
        CompletableFuture<Void> done = new CompletableFuture<>();
        producer.send(rec, (md, e) -> {
            if (e == null) {
                done.complete(null);
            } else {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    /**
     * Cancels a job everywhere: a cancelled event (every stage worker stops the job's sampling
     * within one step and skips its queued tasks) and the job's CANCELLED result, in the
     * current trace context (the job's).
     */
    public void cancel(String jobId, String why, StageName stage) {
        JobEvent e = Records.event(jobId, null, 0, GenerateEvent.newBuilder()
                .setCancelled(JobCancelled.newBuilder().setStage(stage).setReason(why)), events.instance());
        events.publish(e);
        results.publish(Records.failedResult(jobId, Records.failure(FailureCode.CANCELLED_BY_CLIENT,
                "cancelled by " + why, stage, "", false), null), ResultFormat.PROTOBUF);
    }

    static CascadePlan readPlan(Path dir) {
        try {
            ModelRepository reader = new ModelRepository(null);
            BundleManifest bundle = reader.readBundle(dir);
            Map<String, StageManifest> manifests = new LinkedHashMap<>();
            for (String s : bundle.stages()) {
                try {
                    manifests.put(s, reader.readStage(dir, s));
                } catch (RuntimeException e) {
                    LOG.warnf("gateway: stage %s of %s not read: %s", s, dir, e.getMessage());
                }
            }
            CascadePlan p = CascadePlan.of(bundle, manifests);
            LOG.infof("gateway: bundle %s makes sizes %s", dir, p.sizes());
            return p.sizes().isEmpty() ? null : p;
        } catch (RuntimeException e) {
            LOG.warnf("gateway: cannot read the model bundle at %s (%s); sizes are checked by the text encoder", dir,
                    e.getMessage());
            return null;
        }
    }
}
