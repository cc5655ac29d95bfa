package io.unclip.service.kafka;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.ResultFormat;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.validate.InvalidRequestException;
import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.ErrorIds;
import io.unclip.service.codec.JobJson;
import io.unclip.service.record.Records;
import io.unclip.service.record.TaskRejectedException;
import io.unclip.service.stage.JobSpec;

/**
 * A stage's Kafka worker: one replica of the stage's consumer group.
 *
 * <p>One poll thread owns the consumer; a runner thread runs one task at a time (the stage
 * batches a job's images itself). For each record: read the task (or dead-letter it and fail the
 * job), skip it if this replica already ran (job, stage, cascade step) or the job is cancelled,
 * send stage_started, run the {@link StageHandler} (progress events throttled, the loop stops
 * within one step of a cancellation), send stage_finished and the output (the next stage's task
 * or the job's result), wait for the broker to acknowledge the output, and only then commit the
 * record's offset. While a task runs the replica's partitions are paused but it keeps polling, so
 * it stays in the group however long the task takes.
 *
 * <p>A job read from unclip.jobs whose first stage is another one (a caption job, read by the
 * text encoder's group) is forwarded to that stage's topic unchanged, then committed.
 *
 * <p>Delivery is at-least-once: a replica that dies after writing its output but before
 * committing leaves the record to another replica, which writes the same output again
 * (handlers are deterministic), and downstream consumers drop the duplicate.
 *
 * <p>Every start of a record is counted in the group's committed offset ({@link RecordAttempts}),
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
 */
public final class StageWorker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(StageWorker.class);
    private static final long SEND_TIMEOUT_SECONDS = 30;
    private static final int DONE_KEYS = 10_000;

    /**
     * @param stage       the stage this worker runs
     * @param readers     topic to consume, with how to read its records
     * @param groupId     the stage's consumer group
     * @param instance    this replica's id (pod name, host-pid), for client ids and event producers
     * @param maxAttempts attempts of a task that fails with a stage error before the job fails
     * @param stopGrace   on close, how long a running task may go on before it is stopped (and
     *                    left, uncommitted, to another replica)
     */
    public record Config(StageName stage, Map<String, TaskReader> readers, String groupId, String instance,
                         int maxAttempts, Duration stopGrace) {
        public Config {
            readers = Map.copyOf(readers);
        }

        /** A stage worker on its own topic and group, 3 attempts, 10 s stop grace. */
        public static Config of(StageName stage, String instance) {
            return new Config(stage, Map.of(Topics.forStage(stage), TaskReader.stageTasks(stage)),
                    Topics.groupFor(stage), instance, 3, Duration.ofSeconds(10));
        }

        public Config withReader(String topic, TaskReader reader) {
            Map<String, TaskReader> m = new LinkedHashMap<>(readers);
            m.put(topic, reader);
            return new Config(stage, m, groupId, instance, maxAttempts, stopGrace);
        }
    }

    private enum Completion {
        /** Output written (or nothing to write): commit. */
        COMMIT,
        /** Output not written: read the record again. */
        RETRY,
        /** This replica is stopping: leave the record to the next owner of its partition. */
        ABANDON
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
    private final ExecutorService runner;
    private final Thread pollThread;
    private final Deque<ConsumerRecord<String, byte[]>> pending = new ArrayDeque<>();
    private final RecordAttempts attempts = new RecordAttempts();
    private final SeenJobs seen = new SeenJobs();
    private final Set<String> done = Collections.synchronizedSet(Collections.newSetFromMap(
            new LinkedHashMap<String, Boolean>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > DONE_KEYS;
                }
            }));
    private final CountDownLatch assigned = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile boolean stopping;
    private volatile boolean busy;
    private volatile Throwable failure;
    /** Which start of the record the runner is on (1 = first), across replicas: see {@link RecordAttempts}. */
    private volatile int delivery = 1;
    /** Why the last record read again was not completed: "topic-partition@offset: cause". */
    private volatile String retryCause;

    public StageWorker(KafkaSettings settings, Config config, StageHandler handler, Producer<String, byte[]> producer,
                       EventPublisher events, ResultPublisher results, CancellationTracker cancellations,
                       WorkerMetrics metrics) {
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
        String name = "unclip-" + config.stage().name().toLowerCase(java.util.Locale.ROOT);
        this.runner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name + "-runner");
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
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(settings.groupConsumer(config.groupId(), clientId))) {
            c.subscribe(config.readers().keySet(), new Rebalance(c));
            Future<Completion> inFlight = null;
            ConsumerRecord<String, byte[]> current = null;
            long stopDeadline = 0;
            long lastLag = 0;
            while (true) {
                if (!running) {
                    if (inFlight == null) {
                        break;
                    }
                    long now = System.nanoTime();
                    if (stopDeadline == 0) {
                        stopDeadline = now + config.stopGrace().toNanos();
                    } else if (now > stopDeadline) {
                        stopping = true; // the handler stops at its next step; the record is left uncommitted
                    }
                }
                if (inFlight != null) {
                    try {
                        inFlight.get(200, TimeUnit.MILLISECONDS);
                    } catch (TimeoutException | ExecutionException e) {
                        // still running (or failed: handled below)
                    }
                }
                for (ConsumerRecord<String, byte[]> rec : c.poll(inFlight != null ? Duration.ZERO : Duration.ofMillis(200))) {
                    pending.add(rec);
                }
                if (inFlight != null && inFlight.isDone()) {
                    finish(c, current, completion(inFlight, current));
                    inFlight = null;
                    current = null;
                    busy = false;
                }
                if (inFlight == null && running) {
                    ConsumerRecord<String, byte[]> next = pending.poll();
                    if (next != null) {
                        current = next;
                        busy = true;
                        c.pause(c.assignment());
                        int start = attempts.start(c, next);
                        delivery = start;
                        inFlight = start > config.maxAttempts()
                                ? runner.submit(() -> giveUp(next, start - 1))
                                : runner.submit(() -> process(next));
                    } else if (!c.paused().isEmpty()) {
                        c.resume(c.paused());
                    }
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
            runner.shutdownNow();
        }
    }

    private Completion completion(Future<Completion> f, ConsumerRecord<String, byte[]> rec) {
        try {
            return f.get();
        } catch (ExecutionException e) {
            LOG.errorf(e.getCause(), "%s: record %s-%d@%d: output not written (attempt %d of %d); reading it again",
                    config.stage(), rec.topic(), rec.partition(), rec.offset(), delivery, config.maxAttempts());
            retryCause = coordinates(rec) + ": output not written: " + e.getCause();
            return Completion.RETRY;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Completion.ABANDON;
        }
    }

    private void finish(KafkaConsumer<String, byte[]> c, ConsumerRecord<String, byte[]> rec, Completion completion) {
        TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
        if (!c.assignment().contains(tp)) {
            return; // the partition moved: its new owner reads the record again (outputs are idempotent)
        }
        switch (completion) {
            case COMMIT -> {
                attempts.done(rec);
                try {
                    c.commitSync(Map.of(tp, new OffsetAndMetadata(rec.offset() + 1)));
                } catch (KafkaException e) {
                    LOG.warnf("%s: commit of %s@%d failed (%s); the record may be read again", config.stage(), tp,
                            rec.offset(), e.toString());
                }
            }
            case RETRY -> {
                pending.removeIf(r -> r.topic().equals(rec.topic()) && r.partition() == rec.partition());
                c.seek(tp, rec.offset());
                sleepQuietly(1000);
            }
            case ABANDON -> {
                // nothing: not committed
            }
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
            attempts.forget(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            attempts.forget(partitions);
            if (busy) {
                c.pause(partitions);
            }
            LOG.debugf("%s %s: assigned %s", config.stage(), config.instance(), partitions);
            assigned.countDown();
        }
    }

    // ---------------------------------------------------------------------------------------
    // runner thread

    private Completion process(ConsumerRecord<String, byte[]> rec) throws Exception {
        long startNanos = System.nanoTime();
        long queueMs = Math.max(0, System.currentTimeMillis() - rec.timestamp());
        ResultFormat format = formatOf(rec);
        StageTask task;
        try {
            TaskReader reader = config.readers().get(rec.topic());
            task = reader.read(rec);
        } catch (TaskRejectedException e) {
            reject(rec, e, format, null);
            return Completion.COMMIT;
        } catch (RuntimeException e) {
            String errorId = ErrorIds.next(); // a reader bug: the log has the exception, the job the id
            LOG.errorf(e, "%s: record %s-%d@%d: the reader failed (error id %s)", config.stage(), rec.topic(),
                    rec.partition(), rec.offset(), errorId);
            reject(rec, TaskRejectedException.unreadable("cannot read the record (error id " + errorId + ")",
                    JobJson.recoverJobId(rec.value(), rec.key())), format, null);
            return Completion.COMMIT;
        }
        if (task.getRequest().getResultFormat() == ResultFormat.JSON) {
            format = ResultFormat.JSON;
        }
        String jobId = task.getJobId();
        // where a job enters (unclip.jobs, or the gateway's first task, which no stage has run yet): the
        // stages after it read tasks this pipeline wrote, and digesting their request again (an upload of
        // up to 8 MiB for variations) on every hop would be work for nothing
        boolean entering = Topics.JOBS.equals(rec.topic()) || task.getTimingsCount() == 0;
        String firstDigest = !entering ? null
                : seen.conflict(Topics.JOBS.equals(rec.topic()) ? "job/" + jobId : Records.taskKey(task), task.getRequest());
        if (firstDigest != null) {
            reject(rec, TaskRejectedException.alreadyExists(jobId, "job_id: '" + jobId + "' was already submitted with"
                    + " a different request (digest " + firstDigest + ", this one " + SeenJobs.digest(task.getRequest())
                    + "); this submission is rejected, the first job goes on"), format, null);
            return Completion.COMMIT;
        }
        if (task.getStage() != config.stage()) {
            // a job whose first stage is another one: route it there (idempotent: the stage drops duplicates)
            send(producer.send(record(Topics.forStage(task.getStage()), task, format)));
            metrics.outcome("routed");
            return Completion.COMMIT;
        }
        String key = Records.taskKey(task);
        if (done.contains(key)) {
            metrics.outcome("duplicate");
            LOG.debugf("%s: %s already done by this replica; skipped", config.stage(), key);
            return Completion.COMMIT;
        }
        if (cancellations.isCancelled(jobId)) {
            metrics.outcome("cancelled");
            done.add(key);
            return Completion.COMMIT;
        }
        if (task.getRequest().hasDeadline()
                && Records.instant(task.getRequest().getDeadline()).isBefore(java.time.Instant.now())) {
            send(results.publish(Records.failedResult(jobId, Records.failure(FailureCode.DEADLINE_EXCEEDED,
                    "the job passed its deadline before " + task.getStage() + " ran", task.getStage(), "", true), task),
                    format));
            metrics.outcome("failed");
            done.add(key);
            return Completion.COMMIT;
        }

        int attempt = Math.max(1, task.getAttempt()) + delivery - 1; // re-published retries + redeliveries
        TaskEvents ev = events.forTask(task, attempt);
        ev.started();
        BooleanSupplier cancelled = () -> stopping || cancellations.isCancelled(jobId);
        JobSpec spec = makesImages(task.getRequest()) ? JobSpec.of(task.getRequest()) : null;
        int previewInterval = task.getRequest().getStreamProgress() && spec != null ? spec.previewInterval() : 0;
        TaskContext ctx = new TaskContext() {
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
        Outcome out;
        try {
            out = handler.handle(task, ctx);
        } catch (SamplingCancelledException | TaskCancelledException e) {
            ev.close();
            if (stopping) {
                metrics.outcome("abandoned");
                LOG.infof("%s: %s stopped by shutdown; left to another replica", config.stage(), key);
                return Completion.ABANDON;
            }
            metrics.outcome("cancelled");
            LOG.infof("%s: %s cancelled (%s)", config.stage(), key, e.getMessage());
            done.add(key);
            return Completion.COMMIT; // the CANCELLED result is the canceller's to write
        } catch (TaskRejectedException e) {
            ev.close();
            reject(rec, e, format, task);
            done.add(key);
            return Completion.COMMIT;
        } catch (InvalidRequestException e) {
            ev.close();
            reject(rec, TaskRejectedException.invalid(e.field(), e.getMessage(), jobId), format, task);
            done.add(key);
            return Completion.COMMIT;
        } catch (io.unclip.engine.stage.InvalidRequestException e) {
            ev.close(); // the request does not fit the loaded model (vocabulary, sizes, overrides)
            reject(rec, TaskRejectedException.invalid(e.field(), e.getMessage(), jobId), format, task);
            done.add(key);
            return Completion.COMMIT;
        } catch (Exception e) {
            ev.close();
            if (stopping) {
                metrics.outcome("abandoned");
                return Completion.ABANDON;
            }
            if (attempt < config.maxAttempts()) {
                LOG.warnf(e, "%s: %s attempt %d failed; queued again", config.stage(), key, attempt);
                StageTask again = task.toBuilder().setAttempt(attempt + 1).setCreatedAt(Records.now()).build();
                send(producer.send(record(Topics.forStage(task.getStage()), again, format)));
                metrics.outcome("retried");
                return Completion.COMMIT;
            }
            String errorId = ErrorIds.next(); // the job's failure names the id, not the exception
            LOG.errorf(e, "%s: %s failed after %d attempts (error id %s)", config.stage(), key, attempt, errorId);
            send(results.publish(Records.failedResult(jobId, Records.failure(FailureCode.STAGE_ERROR,
                    config.stage() + " failed (error id " + errorId + "); see the service log", config.stage(), "",
                    true), task), format));
            metrics.outcome("failed");
            done.add(key);
            return Completion.COMMIT;
        }

        io.unclip.api.v1.StageTimings timings = out.timings().toBuilder()
                .setQueueMs(queueMs)
                .setWallMs(Math.max(out.timings().getWallMs(), (System.nanoTime() - startNanos) / 1_000_000))
                .build();
        send(ev.finished(timings));
        if (out.next() != null) {
            StageTask next = out.next().toBuilder().setCreatedAt(Records.now()).build();
            send(producer.send(record(Topics.forStage(next.getStage()), next, format)));
        } else {
            JobResult r = out.result();
            send(results.publish(r, format));
        }
        done.add(key);
        metrics.outcome("succeeded");
        int images = spec != null ? spec.numImages() : 1;
        metrics.ran(System.nanoTime() - startNanos, timings.getSteps(), images, queueMs);
        return Completion.COMMIT;
    }

    private static boolean makesImages(io.unclip.api.v1.JobRequest r) {
        return r.hasGenerate() || r.hasVariations() || r.hasInterpolate();
    }

    private ProducerRecord<String, byte[]> record(String topic, StageTask task, ResultFormat format) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, task.getJobId(), task.toByteArray());
        RecordHeaders.put(r.headers(), RecordHeaders.RESULT_FORMAT, RecordHeaders.name(format));
        return r;
    }

    private void reject(ConsumerRecord<String, byte[]> rec, TaskRejectedException e, ResultFormat format,
                        StageTask task) throws Exception {
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
        metrics.outcome("dead_lettered");
    }

    /**
     * A record started {@code starts} times without being completed (its outputs could not be
     * written, or the replicas running it died or stopped): dead-letter it and fail its job, each
     * as best it can, so that it is committed and no longer blocks its partition. It is not parsed
     * again: parsing may be what stopped the replicas.
     */
    private Completion giveUp(ConsumerRecord<String, byte[]> rec, int starts) {
        String at = coordinates(rec) + ": ";
        String cause = retryCause;
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
        metrics.outcome("given_up");
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

    /** Stops polling; a running task gets {@link Config#stopGrace()} to finish. */
    @Override
    public void close() {
        running = false;
        try {
            pollThread.join(config.stopGrace().toMillis() + 15_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
