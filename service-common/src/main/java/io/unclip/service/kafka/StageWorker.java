package io.unclip.service.kafka;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.ResultFormat;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.StageTimings;
import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.schedule.QueueFullException;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.codec.JobJson;
import io.unclip.service.record.Records;
import io.unclip.service.record.TaskRejectedException;
import io.unclip.service.stage.ErrorIds;
import io.unclip.service.stage.JobSpec;
import io.unclip.service.stage.TaskContext;
import io.unclip.service.telemetry.LogContext;
import io.unclip.service.telemetry.TraceHeaders;

/**
 * A stage's Kafka worker: one replica of the stage's consumer group.
 *
 * <p>One poll thread owns the consumer; up to {@link Config#maxInFlight()} records run at once on
 * runner threads, where the stage's step scheduler batches them with each other and with the
 * service's gRPC calls. For each record: read the task (or dead-letter it and fail the job), skip
 * it if this replica already ran (job, stage, cascade step) or the job is cancelled, send
 * stage_started, run the {@link StageHandler} (progress events throttled, the loop stops within
 * one step of a cancellation), send stage_finished and the output (the next stage's task or the
 * job's result), and wait for the broker to acknowledge the output. Records finish in any order;
 * a partition's offset is committed only up to its oldest unfinished record ({@link CommitLedger}),
 * so commit-after-produce holds for every record. While the window is full the replica's
 * partitions are paused but it keeps polling, so it stays in the group however long tasks take.
 * Records of one job id start in order: one waits while another with its key runs.
 *
 * <p>When the stage has no room (its scheduler's queue is full, as gRPC calls share it), the
 * record is put back, nothing more is started until a running record finishes (or a second
 * passes), and the same record is started again: the worker stops taking records, it does not
 * refuse them.
 *
 * <p>A job read from unclip.jobs whose first stage is another one (a caption job, read by the
 * text encoder's group) is forwarded to that stage's topic unchanged, then committed.
 *
 * <p>Delivery is at-least-once: a replica that dies after writing an output but before
 * committing past its record leaves the record to another replica, which writes the same output
 * again (handlers are deterministic), and downstream consumers drop the duplicate.
 *
 * <p>Every start of a record is counted in the group's committed offset ({@link CommitLedger}),
 * so the count survives the replica: stage_started reports it (with the task's own attempt,
 * raised when a stage error re-queues the task), and a record started more than
 * {@link Config#maxAttempts()} times without being completed (its outputs cannot be written, or
 * it stops every replica that runs it) is given up: dead letter and failed result as best they
 * can be written, then committed. No record blocks its partition.
 *
 * <p>Job ids and duplicates: a record key, when present, must be the job id ({@link TaskReader}).
 * A job id seen again with the same request is a duplicate (skipped once done); with another
 * request a conflict: that submission is dead-lettered and failed with ALREADY_EXISTS, the first
 * job goes on ({@link SeenJobs}). Both records are kept per replica and bounded: records are keyed
 * by job id, so one id always lands on one partition, hence on one replica of a stage while the
 * partition stays there. An ALREADY_EXISTS result shares its job id with the first job's result;
 * result consumers must not take it for the job's outcome.
 *
 * <p>Tracing and logs: each start of a record is a span ("{@code <topic> process}", a consumer
 * span) whose parent is the trace context in the record's headers, and every record it writes
 * (next task, events, result, dead letter) carries that span's context ({@link TraceHeaders}): a
 * job is one trace across the stages. A record without one starts a new trace. While it runs,
 * the runner thread's MDC has the job id, request id, stage and trace ids ({@link LogContext}).
 */
public final class StageWorker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(StageWorker.class);
    private static final long SEND_TIMEOUT_SECONDS = 30;
    private static final int DONE_KEYS = 10_000;
    /** Most records one replica may run at once: their start counts must fit the offset metadata. */
    public static final int MAX_IN_FLIGHT = 256;
    private static final long NO_ROOM_BACKOFF_NANOS = 1_000_000_000L;

    /**
     * @param stage       the stage this worker runs
     * @param readers     topic to consume, with how to read its records
     * @param groupId     the stage's consumer group
     * @param instance    this replica's id (pod name, host-pid), for client ids and event producers
     * @param maxAttempts attempts of a task that fails with a stage error before the job fails
     * @param stopGrace   on close, how long running tasks may go on before they are stopped (and
     *                    left, uncommitted, to another replica)
     * @param maxInFlight records this replica runs at once (1 to {@value #MAX_IN_FLIGHT})
     */
    public record Config(StageName stage, Map<String, TaskReader> readers, String groupId, String instance,
                         int maxAttempts, Duration stopGrace, int maxInFlight) {
        public Config {
            readers = Map.copyOf(readers);
            if (maxInFlight < 1 || maxInFlight > MAX_IN_FLIGHT) {
                throw new IllegalArgumentException("records in flight must be between 1 and " + MAX_IN_FLIGHT
                        + ", got " + maxInFlight);
            }
        }

        /** A stage worker on its own topic and group, 3 attempts, 10 s stop grace, 4 records in flight. */
        public static Config of(StageName stage, String instance) {
            return new Config(stage, Map.of(Topics.forStage(stage), TaskReader.stageTasks(stage)),
                    Topics.groupFor(stage), instance, 3, Duration.ofSeconds(10), 4);
        }

        public Config withReader(String topic, TaskReader reader) {
            Map<String, TaskReader> m = new LinkedHashMap<>(readers);
            m.put(topic, reader);
            return new Config(stage, m, groupId, instance, maxAttempts, stopGrace, maxInFlight);
        }

        public Config withMaxInFlight(int records) {
            return new Config(stage, readers, groupId, instance, maxAttempts, stopGrace, records);
        }
    }

    private enum Completion {
        /** Output written (or nothing to write): commit. */
        COMMIT,
        /** Output not written: read the record again. */
        RETRY,
        /** The stage had no room for it: start it again when a running record has finished. */
        NO_ROOM,
        /** This replica is stopping: leave the record to the next owner of its partition. */
        ABANDON
    }

    /** A record on a runner thread: which start of it this is, and its outcome once done. */
    private record Running(ConsumerRecord<String, byte[]> rec, int start, Future<Completion> outcome) {
    }

    private final KafkaSettings settings;
    private final Config config;
    private final StageHandler handler;
    private final Producer<String, byte[]> producer;
    private final EventPublisher events;
    private final ResultPublisher results;
    private final DeadLetters deadLetters;
    private final CancellationTracker cancellations;
    private final WorkerMetrics metrics;
    private final Tracer tracer;
    private final String stageLabel;
    private final ExecutorService runners;
    private final Thread pollThread;
    /** Poll thread only: records fetched and not started, the records running, the commit positions. */
    private final Deque<ConsumerRecord<String, byte[]>> pending = new ArrayDeque<>();
    private final List<Running> running = new ArrayList<>();
    private final CommitLedger ledger = new CommitLedger();
    /** Wakes the poll thread when a runner finishes. */
    private final BlockingQueue<Running> finished = new LinkedBlockingQueue<>();
    private final SeenJobs seen = new SeenJobs();
    private final Set<String> done = Collections.synchronizedSet(Collections.newSetFromMap(
            new LinkedHashMap<String, Boolean>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > DONE_KEYS;
                }
            }));
    /** Why a record read again was not completed, by "topic-partition@offset". */
    private final Map<String, String> retryCauses = new ConcurrentHashMap<>();
    private final CountDownLatch assigned = new CountDownLatch(1);
    private volatile boolean accepting = true;
    private volatile boolean stopping;
    private volatile Throwable failure;
    /** Poll thread only: no new record starts before this (the stage had no room). */
    private long noRoomUntil;
    private boolean paused;

    public StageWorker(KafkaSettings settings, Config config, StageHandler handler, Producer<String, byte[]> producer,
                       EventPublisher events, ResultPublisher results, CancellationTracker cancellations,
                       WorkerMetrics metrics, OpenTelemetry telemetry) {
        if (handler.stage() != config.stage()) {
            throw new IllegalArgumentException("handler runs " + handler.stage() + ", worker is for " + config.stage());
        }
        this.settings = settings;
        this.config = config;
        this.handler = handler;
        this.producer = producer;
        this.events = events;
        this.results = results;
        this.deadLetters = new DeadLetters(producer, config.instance());
        this.cancellations = cancellations;
        this.metrics = metrics;
        this.tracer = (telemetry == null ? OpenTelemetry.noop() : telemetry).getTracer("io.unclip.worker");
        this.stageLabel = config.stage().name().toLowerCase(java.util.Locale.ROOT);
        String name = "unclip-" + stageLabel;
        AtomicInteger threads = new AtomicInteger();
        this.runners = Executors.newFixedThreadPool(config.maxInFlight(), r -> {
            Thread t = new Thread(r, name + "-runner-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.pollThread = new Thread(this::loop, name + "-poll");
        this.pollThread.setDaemon(true);
    }

    public StageWorker start() {
        pollThread.start();
        return this;
    }

    /** Whether the worker has joined its group and received partitions. */
    public boolean awaitAssignment(Duration timeout) throws InterruptedException {
        return assigned.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean isRunning() {
        return pollThread.isAlive();
    }

    /**
     * Whether the poll thread ended without being asked to ({@link #close()}): the worker is dead
     * and only a restart of the process brings it back.
     */
    public boolean diedUnexpectedly() {
        return accepting && !pollThread.isAlive();
    }

    /** Why the poll loop stopped, if it stopped by itself. */
    public Throwable failure() {
        return failure;
    }

    public Config config() {
        return config;
    }

    // ---------------------------------------------------------------------------------------
    // poll thread

    private void loop() {
        String clientId = config.groupId() + "-" + config.instance();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(settings.groupConsumer(config.groupId(), clientId));
             KafkaClientMetrics clientMetrics = metrics.bind(c)) {
            c.subscribe(config.readers().keySet(), new Rebalance(c));
            long stopDeadline = 0;
            long lastLag = 0;
            while (accepting || !running.isEmpty()) {
                if (!accepting) {
                    long now = System.nanoTime();
                    if (stopDeadline == 0) {
                        stopDeadline = now + config.stopGrace().toNanos();
                    } else if (now > stopDeadline) {
                        stopping = true; // handlers stop at their next step; their records are left uncommitted
                    }
                }
                for (Running r; (r = finished.poll()) != null; ) {
                    running.remove(r);
                    finish(c, r, completion(r));
                }
                startWhatFits(c);
                boolean full = running.size() >= config.maxInFlight() || !pending.isEmpty() || !accepting;
                if (full != paused) {
                    if (full) {
                        c.pause(c.assignment());
                    } else {
                        c.resume(c.paused());
                    }
                    paused = full;
                }
                if (full) {
                    // nothing to fetch: wait for a runner (or the end of a no-room pause), then poll to stay in the group
                    Running r = finished.poll(running.isEmpty() ? 50 : 200, TimeUnit.MILLISECONDS);
                    if (r != null) {
                        finished.add(r);
                    }
                }
                // room left while records run: fetch briefly, so that finished ones are seen soon
                Duration fetch = full ? Duration.ZERO : Duration.ofMillis(running.isEmpty() ? 200 : 20);
                for (ConsumerRecord<String, byte[]> rec : c.poll(fetch)) {
                    pending.add(rec);
                }
                long now = System.nanoTime();
                if (now - lastLag > 5_000_000_000L) {
                    lastLag = now;
                    long lag = 0;
                    for (TopicPartition tp : c.assignment()) {
                        lag += c.currentLag(tp).orElse(0);
                    }
                    metrics.lag(lag);
                }
            }
        } catch (Throwable e) {
            failure = e;
            LOG.errorf(e, "%s worker stopped", config.stage());
        } finally {
            runners.shutdownNow();
        }
    }

    /** Starts pending records while there is room, in order, except those whose job id is already running. */
    private void startWhatFits(KafkaConsumer<String, byte[]> c) {
        if (!accepting || System.nanoTime() < noRoomUntil) {
            return;
        }
        for (Iterator<ConsumerRecord<String, byte[]>> it = pending.iterator();
             it.hasNext() && running.size() < config.maxInFlight(); ) {
            ConsumerRecord<String, byte[]> rec = it.next();
            if (runs(rec)) {
                it.remove(); // read again after a seek while it still runs: it completes where it is
                continue;
            }
            if (rec.key() != null && running.stream().anyMatch(r -> rec.key().equals(r.rec().key()))) {
                continue; // one job's records in order
            }
            it.remove();
            int start = ledger.start(c, rec);
            CompletableFuture<Completion> outcome = new CompletableFuture<>();
            Running r = new Running(rec, start, outcome);
            running.add(r);
            runners.execute(() -> {
                Span span = span(rec, start);
                try (Scope scope = span.makeCurrent();
                     LogContext log = LogContext.open().put(LogContext.STAGE, stageLabel)
                             .put(LogContext.JOB_ID, rec.key()).span(span.getSpanContext())) {
                    Completion done = start > config.maxAttempts() ? giveUp(rec, start - 1) : process(r);
                    span.setAttribute("unclip.completion", done.name().toLowerCase(java.util.Locale.ROOT));
                    outcome.complete(done);
                } catch (Throwable e) {
                    span.recordException(e);
                    span.setStatus(StatusCode.ERROR, "output not written");
                    outcome.completeExceptionally(e);
                } finally {
                    span.end();
                    finished.add(r);
                }
            });
        }
    }

    private boolean runs(ConsumerRecord<String, byte[]> rec) {
        for (Running r : running) {
            if (r.rec().offset() == rec.offset() && r.rec().partition() == rec.partition()
                    && r.rec().topic().equals(rec.topic())) {
                return true;
            }
        }
        return false;
    }

    private Completion completion(Running r) {
        try {
            return r.outcome().get();
        } catch (ExecutionException e) {
            LOG.errorf(e.getCause(), "%s: record %s: output not written (attempt %d of %d); reading it again",
                    config.stage(), coordinates(r.rec()), r.start(), config.maxAttempts());
            retryCauses.put(coordinates(r.rec()), coordinates(r.rec()) + ": output not written: " + e.getCause());
            return Completion.RETRY;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Completion.ABANDON;
        }
    }

    private void finish(KafkaConsumer<String, byte[]> c, Running r, Completion completion) {
        ConsumerRecord<String, byte[]> rec = r.rec();
        TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
        if (!c.assignment().contains(tp)) {
            ledger.stopped(rec);
            return; // the partition moved: its new owner reads the record again (outputs are idempotent)
        }
        switch (completion) {
            case COMMIT -> {
                retryCauses.remove(coordinates(rec));
                ledger.finished(c, rec);
            }
            case RETRY -> {
                ledger.stopped(rec); // no commit passes it; read it again
                pending.removeIf(p -> p.topic().equals(rec.topic()) && p.partition() == rec.partition());
                c.seek(tp, rec.offset());
                sleepQuietly(1000);
            }
            case NO_ROOM -> {
                ledger.unstart(rec);
                pending.addFirst(rec);
                noRoomUntil = System.nanoTime() + NO_ROOM_BACKOFF_NANOS;
            }
            case ABANDON -> ledger.stopped(rec); // not committed
        }
        if (completion != Completion.NO_ROOM) {
            noRoomUntil = 0; // a record left: there may be room again
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        private final KafkaConsumer<String, byte[]> c;

        Rebalance(KafkaConsumer<String, byte[]> c) {
            this.c = c;
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            pending.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
            ledger.revoked(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            ledger.assigned(partitions);
            if (paused) {
                c.pause(partitions);
            }
            LOG.debugf("%s %s: assigned %s", config.stage(), config.instance(), partitions);
            assigned.countDown();
        }
    }

    // ---------------------------------------------------------------------------------------
    // runner threads

    /** One start of a record, as a consumer span in the record's trace (a new trace when it has none). */
    private Span span(ConsumerRecord<String, byte[]> rec, int start) {
        var b = tracer.spanBuilder(rec.topic() + " process")
                .setParent(TraceHeaders.extract(rec.headers()))
                .setSpanKind(SpanKind.CONSUMER)
                .setAttribute("messaging.system", "kafka")
                .setAttribute("messaging.operation.type", "process")
                .setAttribute("messaging.destination.name", rec.topic())
                .setAttribute("messaging.destination.partition.id", String.valueOf(rec.partition()))
                .setAttribute("messaging.kafka.offset", rec.offset())
                .setAttribute("messaging.consumer.group.name", config.groupId())
                .setAttribute("unclip.stage", stageLabel)
                .setAttribute("unclip.delivery", start);
        if (rec.key() != null) {
            b.setAttribute("messaging.kafka.message.key", rec.key()).setAttribute("unclip.job_id", rec.key());
        }
        return b.startSpan();
    }

    /** Counts what became of a record, and says so on its span (an error for a job failed here). */
    private void outcome(String outcome) {
        metrics.outcome(outcome);
        Span span = Span.current();
        span.setAttribute("unclip.outcome", outcome);
        if (outcome.equals("failed") || outcome.equals("dead_lettered") || outcome.equals("given_up")) {
            span.setStatus(StatusCode.ERROR, outcome);
        }
    }

    /** One record, start to finish: read it, screen it, run the stage, write what it made. */
    private Completion process(Running run) throws Exception {
        ConsumerRecord<String, byte[]> rec = run.rec();
        long startNanos = System.nanoTime();
        long queueMs = Math.max(0, System.currentTimeMillis() - rec.timestamp());
        StageTask task = read(run);
        if (task == null) {
            return Completion.COMMIT; // dead-lettered
        }
        LogContext.set(LogContext.JOB_ID, task.getJobId());
        LogContext.set(LogContext.REQUEST_ID, LogContext.requestId(task.getRequest()));
        Span.current().setAttribute("unclip.job_id", task.getJobId());
        ResultFormat format = task.getRequest().getResultFormat() == ResultFormat.JSON ? ResultFormat.JSON
                : formatOf(rec);
        String skipped = screen(run, task, format);
        if (skipped != null) {
            outcome(skipped);
            return Completion.COMMIT;
        }
        int attempt = Math.max(1, task.getAttempt()) + run.start() - 1; // re-published retries + redeliveries
        TaskEvents ev = events.forTask(task, attempt);
        ev.started();
        Outcome out;
        try {
            out = handler.handle(task, context(task, ev, queueMs));
        } catch (Exception e) {
            ev.close();
            return failed(run, task, format, attempt, e);
        }
        StageTimings timings = out.timings().toBuilder()
                .setQueueMs(queueMs)
                .setWallMs(Math.max(out.timings().getWallMs(), (System.nanoTime() - startNanos) / 1_000_000))
                .build();
        send(ev.finished(timings));
        if (out.next() != null) {
            StageTask next = out.next().toBuilder().setCreatedAt(Records.now()).build();
            send(producer.send(record(Topics.forStage(next.getStage()), next, format)));
        } else {
            send(results.publish(out.result(), format));
        }
        done.add(Records.taskKey(task));
        outcome("succeeded");
        JobSpec spec = makesImages(task.getRequest()) ? JobSpec.of(task.getRequest()) : null;
        metrics.ran(System.nanoTime() - startNanos, timings.getSteps(), spec != null ? spec.numImages() : 1, queueMs);
        return Completion.COMMIT;
    }

    /** The record's task, or null when it cannot be read (then it is dead-lettered and its job failed). */
    private StageTask read(Running run) throws Exception {
        ConsumerRecord<String, byte[]> rec = run.rec();
        try {
            return config.readers().get(rec.topic()).read(rec);
        } catch (TaskRejectedException e) {
            reject(run, e, formatOf(rec), null);
        } catch (RuntimeException e) {
            String errorId = ErrorIds.next(); // a reader bug: the log has the exception, the job the id
            LOG.errorf(e, "%s: record %s: the reader failed (error id %s)", config.stage(), coordinates(rec), errorId);
            reject(run, TaskRejectedException.unreadable("cannot read the record (error id " + errorId + ")",
                    JobJson.recoverJobId(rec.value(), rec.key())), formatOf(rec), null);
        }
        return null;
    }

    /**
     * What this replica does instead of running the task, if anything (done here, named for the
     * metrics): a conflicting resubmission, a job for another stage, a duplicate, a cancelled job,
     * a job past its deadline. Null: run it.
     */
    private String screen(Running run, StageTask task, ResultFormat format) throws Exception {
        ConsumerRecord<String, byte[]> rec = run.rec();
        String jobId = task.getJobId();
        // where a job enters (unclip.jobs, or the gateway's first task, which no stage has run yet): the
        // stages after it read tasks this pipeline wrote, and digesting their request again (an upload of
        // up to 8 MiB for variations) on every hop would be work for nothing
        boolean entering = Topics.JOBS.equals(rec.topic()) || task.getTimingsCount() == 0;
        String firstDigest = !entering ? null
                : seen.conflict(Topics.JOBS.equals(rec.topic()) ? "job/" + jobId : Records.taskKey(task), task.getRequest());
        if (firstDigest != null) {
            reject(run, TaskRejectedException.alreadyExists(jobId, "job_id: '" + jobId + "' was already submitted with"
                    + " a different request (digest " + firstDigest + ", this one " + SeenJobs.digest(task.getRequest())
                    + "); this submission is rejected, the first job goes on"), format, null);
            return "dead_lettered";
        }
        if (task.getStage() != config.stage()) {
            // a job whose first stage is another one: route it there (idempotent: the stage drops duplicates)
            send(producer.send(record(Topics.forStage(task.getStage()), task, format)));
            return "routed";
        }
        String key = Records.taskKey(task);
        if (done.contains(key)) {
            LOG.debugf("%s: %s already done by this replica; skipped", config.stage(), key);
            return "duplicate";
        }
        if (cancellations.isCancelled(jobId)) {
            done.add(key);
            return "cancelled";
        }
        if (task.getRequest().hasDeadline()
                && Records.instant(task.getRequest().getDeadline()).isBefore(java.time.Instant.now())) {
            send(results.publish(Records.failedResult(jobId, Records.failure(FailureCode.DEADLINE_EXCEEDED,
                    "the job passed its deadline before " + task.getStage() + " ran", task.getStage(), "", true), task),
                    format));
            done.add(key);
            return "failed";
        }
        return null;
    }

    private TaskContext context(StageTask task, TaskEvents ev, long queueMs) {
        BooleanSupplier cancelled = () -> stopping || cancellations.isCancelled(task.getJobId());
        JobSpec spec = makesImages(task.getRequest()) ? JobSpec.of(task.getRequest()) : null;
        int previewInterval = task.getRequest().getStreamProgress() && spec != null ? spec.previewInterval() : 0;
        return new TaskContext() {
            @Override
            public BooleanSupplier cancellation() {
                return cancelled;
            }

            @Override
            public void progress(int step, int total, Tensor preview) {
                ev.progress(step, total, preview);
            }

            @Override
            public int previewInterval() {
                return previewInterval;
            }

            @Override
            public long queueMs() {
                return queueMs;
            }
        };
    }

    /** What a handler's exception means for its record: the one place a stage's failures are sorted. */
    private Completion failed(Running run, StageTask task, ResultFormat format, int attempt, Exception e)
            throws Exception {
        String key = Records.taskKey(task);
        String jobId = task.getJobId();
        if (e instanceof QueueFullException) {
            outcome("no_room");
            LOG.debugf("%s: %s: %s; started again when a running task finishes", config.stage(), key, e.getMessage());
            return Completion.NO_ROOM;
        }
        if (stopping) {
            outcome("abandoned");
            LOG.infof("%s: %s stopped by shutdown; left to another replica", config.stage(), key);
            return Completion.ABANDON;
        }
        if (e instanceof SamplingCancelledException || e instanceof TaskCancelledException) {
            outcome("cancelled");
            LOG.infof("%s: %s cancelled (%s)", config.stage(), key, e.getMessage());
            done.add(key);
            return Completion.COMMIT; // the CANCELLED result is the canceller's to write
        }
        TaskRejectedException rejected = e instanceof TaskRejectedException t ? t
                : e instanceof InvalidRequestException i ? TaskRejectedException.invalid(i.field(), i.getMessage(), jobId)
                : null;
        if (rejected != null) {
            reject(run, rejected, format, task);
            done.add(key);
            return Completion.COMMIT;
        }
        if (attempt < config.maxAttempts()) {
            LOG.warnf(e, "%s: %s attempt %d failed; queued again", config.stage(), key, attempt);
            StageTask again = task.toBuilder().setAttempt(attempt + 1).setCreatedAt(Records.now()).build();
            send(producer.send(record(Topics.forStage(task.getStage()), again, format)));
            outcome("retried");
            return Completion.COMMIT;
        }
        String errorId = ErrorIds.next(); // the job's failure names the id, not the exception
        LOG.errorf(e, "%s: %s failed after %d attempts (error id %s)", config.stage(), key, attempt, errorId);
        send(results.publish(Records.failedResult(jobId, Records.failure(FailureCode.STAGE_ERROR,
                config.stage() + " failed (error id " + errorId + "); see the service log", config.stage(), "",
                true), task), format));
        outcome("failed");
        done.add(key);
        return Completion.COMMIT;
    }

    private static boolean makesImages(io.unclip.api.v1.JobRequest r) {
        return r.hasGenerate() || r.hasVariations() || r.hasInterpolate();
    }

    private ProducerRecord<String, byte[]> record(String topic, StageTask task, ResultFormat format) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, task.getJobId(), task.toByteArray());
        RecordHeaders.put(r.headers(), RecordHeaders.RESULT_FORMAT, RecordHeaders.name(format));
        TraceHeaders.inject(r.headers());
        return r;
    }

    private void reject(Running run, TaskRejectedException e, ResultFormat format, StageTask task) throws Exception {
        ConsumerRecord<String, byte[]> rec = run.rec();
        int delivery = run.start();
        String jobId = e.jobId();
        LOG.warnf("%s: record %s-%d@%d dead-lettered (job %s): %s", config.stage(), rec.topic(), rec.partition(),
                rec.offset(), jobId, e.getMessage());
        try {
            send(deadLetters.send(rec, e.getMessage(), jobId, config.stage(), e.code()));
        } catch (Exception dlFailed) {
            if (delivery < config.maxAttempts()) {
                throw dlFailed; // read the record again; its job is failed once, with the dead letter
            }
            LOG.errorf(dlFailed, "%s: record %s-%d@%d: dead letter not written after %d attempts; failing job %s"
                    + " without it", config.stage(), rec.topic(), rec.partition(), rec.offset(), delivery, jobId);
        }
        if (jobId != null) {
            send(results.publish(Records.failedResult(jobId, Records.failure(e.code(), e.getMessage(), config.stage(),
                    e.field(), false), task), format));
        }
        outcome("dead_lettered");
    }

    /**
     * A record started {@code starts} times without being completed (its outputs could not be
     * written, or the replicas running it died or stopped): dead-letter it and fail its job, each
     * as best it can, so that it is committed and no longer blocks its partition. It is not parsed
     * again: parsing may be what stopped the replicas.
     */
    private Completion giveUp(ConsumerRecord<String, byte[]> rec, int starts) {
        String at = coordinates(rec) + ": ";
        String cause = retryCauses.get(coordinates(rec));
        String reason = "given up after " + starts + " attempts: " + (cause != null && cause.startsWith(at)
                ? cause.substring(at.length()) : "started without finishing (the replicas running it stopped or died)");
        String jobId = JobJson.recoverJobId(rec.value(), rec.key());
        LOG.errorf("%s: record %s (job %s) %s", config.stage(), coordinates(rec), jobId, reason);
        try {
            send(deadLetters.send(rec, reason, jobId, config.stage(), FailureCode.DEAD_LETTERED));
        } catch (Exception e) {
            LOG.errorf(e, "%s: record %s: dead letter not written", config.stage(), coordinates(rec));
        }
        if (jobId != null) {
            try {
                send(results.publish(Records.failedResult(jobId, Records.failure(FailureCode.DEAD_LETTERED, reason,
                        config.stage(), "", false), null), formatOf(rec)));
            } catch (Exception e) {
                LOG.errorf(e, "%s: record %s: failed result of job %s not written", config.stage(), coordinates(rec),
                        jobId);
            }
        }
        outcome("given_up");
        return Completion.COMMIT;
    }

    /** The result format a record's job wants: its header's, and JSON for a JSON job even when it does not parse. */
    private static ResultFormat formatOf(ConsumerRecord<String, byte[]> rec) {
        if (Topics.JOBS.equals(rec.topic()) && rec.value() != null && JobJson.looksLikeJson(rec.value())) {
            return ResultFormat.JSON;
        }
        return RecordHeaders.resultFormat(rec.headers());
    }

    private static String coordinates(ConsumerRecord<String, byte[]> rec) {
        return rec.topic() + "-" + rec.partition() + "@" + rec.offset();
    }

    private static void send(Future<RecordMetadata> f) throws Exception {
        try {
            f.get(SEND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops polling; running tasks get {@link Config#stopGrace()} to finish. */
    @Override
    public void close() {
        accepting = false;
        try {
            pollThread.join(config.stopGrace().toMillis() + 15_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
