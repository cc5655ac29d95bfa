package io.unclip.gateway;

import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.Failure;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateResult;
import io.unclip.api.v1.JobCancelled;
import io.unclip.api.v1.JobEvent;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.JobStatus;
import io.unclip.api.v1.StageName;
import io.unclip.service.codec.ResultJson;
import io.unclip.service.kafka.RecordHeaders;
import io.unclip.service.record.Records;
import io.unclip.service.kafka.Topics;
import io.unclip.service.telemetry.TraceHeaders;

/**
 * The jobs this gateway knows (every job whose events it has seen, from any gateway replica or
 * batch producer) and the client streams waiting on them. Fed by the gateway's broadcast
 * consumer of unclip.events, unclip.results and unclip.dead-letter: it keeps each job's
 * {@link JobStatus} (GetJob) and forwards the job's events to its streams by job id. The first
 * terminal record of a job wins (result, failure, dead letter or cancellation); later ones
 * (redeliveries, races) are dropped, so a client sees exactly one terminal event. At start the
 * gateway also reads the last {@link #RETENTION} of unclip.results and unclip.dead-letter
 * ({@code Pipeline}), so any replica, restarted or new, answers GetJob for a job that ended in
 * that time; a job still running is known again from its next event.
 *
 * <p>Each job keeps its trace context (its accepted event's, or the submit span's here), so that
 * a cancellation sent from here is part of the job's trace. For a job accepted by this replica,
 * its result or dead letter ends the trace with a consumer span, and its outcome and time to
 * first preview are counted ({@link GatewayMetrics}).
 */
@ApplicationScoped
public class JobHub {
    private static final Logger LOG = Logger.getLogger(JobHub.class);
    static final int MAX_JOBS = 10_000;
    static final Duration RETENTION = Duration.ofHours(1);

    /** One job: its status and its local client streams. */
    static final class Job {
        final String id;
        JobStatus.Builder status;
        final List<ClientStream> streams = new CopyOnWriteArrayList<>();
        Instant terminalAt;
        /** The job's trace (root when unknown). */
        Context trace = Context.root();
        /** Accepted by this replica: its outcome is counted here, and its end traced. */
        boolean local;
        long acceptedNanos;
        boolean previewSeen;

        Job(String id) {
            this.id = id;
            Instant now = Instant.now();
            this.status = JobStatus.newBuilder().setJobId(id).setState(JobState.QUEUED)
                    .setCreatedAt(Records.timestamp(now)).setUpdatedAt(Records.timestamp(now));
        }

        boolean terminal() {
            return terminalAt != null;
        }
    }

    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final Map<String, String> requestIds = new LinkedHashMap<>();

    @Inject
    GatewayMetrics metrics;

    @Inject
    Instance<OpenTelemetry> telemetry;

    private volatile Tracer tracer;

    /** A job accepted here: known (QUEUED) before its task is even sent. */
    public synchronized void accepted(String jobId, String requestId) {
        accepted(jobId, requestId, Context.root());
    }

    /** As {@link #accepted(String, String)}, in its trace. */
    public synchronized void accepted(String jobId, String requestId, Context trace) {
        Job j = job(jobId);
        j.local = true;
        j.acceptedNanos = System.nanoTime();
        j.trace = trace;
        if (requestId != null && !requestId.isEmpty()) {
            requestIds.put(requestId, jobId);
        }
    }

    /** The trace context of a job (root when it is unknown or was not traced). */
    public synchronized Context trace(String jobId) {
        Job j = jobs.get(jobId);
        return j == null ? Context.root() : j.trace;
    }

    /**
     * The job a request id was given to, if this gateway still knows it: accepted here, or by
     * another replica whose accepted event this one has read (a retry that races the first
     * submission to another replica, within the few milliseconds the event takes, still makes a
     * second job).
     */
    public synchronized Optional<String> jobForRequest(String requestId) {
        String id = requestIds.get(requestId);
        return id != null && jobs.containsKey(id) ? Optional.of(id) : Optional.empty();
    }

    public synchronized void subscribe(String jobId, ClientStream stream) {
        job(jobId).streams.add(stream);
    }

    public synchronized void unsubscribe(String jobId, ClientStream stream) {
        Job j = jobs.get(jobId);
        if (j != null) {
            j.streams.remove(stream);
        }
    }

    public synchronized Optional<JobStatus> find(String jobId) {
        Job j = jobs.get(jobId);
        return j == null ? Optional.empty() : Optional.of(j.status.build());
    }

    /** Handles one record of the gateway's broadcast consumer. */
    public void onRecord(ConsumerRecord<String, byte[]> rec) {
        try {
            switch (rec.topic()) {
                case Topics.EVENTS -> {
                    JobEvent e = JobEvent.parseFrom(rec.value());
                    if (e.getEvent().hasAccepted()) {
                        remember(e.getJobId(), TraceHeaders.extract(rec.headers()));
                    }
                    onEvent(e);
                }
                case Topics.RESULTS -> {
                    JobResult r;
                    if (RecordHeaders.JSON.equals(RecordHeaders.text(rec.headers(), RecordHeaders.RESULT_FORMAT))) {
                        r = fromJson(ResultJson.parse(rec.value()));
                    } else {
                        r = JobResult.parseFrom(rec.value());
                    }
                    if (onResult(r)) {
                        traceEnd(rec, r.getJobId(), r.getStatus(), r.getError().getCode());
                    }
                }
                case Topics.DEAD_LETTER -> {
                    DeadLetter d = DeadLetter.parseFrom(rec.value());
                    if (onDeadLetter(d)) {
                        traceEnd(rec, d.getJobId(), JobState.FAILED, d.getCode());
                    }
                }
                default -> {
                }
            }
        } catch (Exception e) {
            LOG.debugf("ignored %s record %d@%d: %s", rec.topic(), rec.partition(), rec.offset(), e);
        }
    }

    public synchronized void onEvent(JobEvent e) {
        String id = e.getJobId();
        if (id.isEmpty()) {
            return;
        }
        GenerateEvent ev = e.getEvent();
        Job j = job(id);
        if (j.terminal()) {
            return;
        }
        JobStatus.Builder s = j.status.setUpdatedAt(e.getTimestamp());
        switch (ev.getEventCase()) {
            case ACCEPTED -> {
                // the accepting gateway already sent it to its client; other replicas learn its request id
                String requestId = ev.getAccepted().getRequestId();
                if (!requestId.isEmpty()) {
                    requestIds.putIfAbsent(requestId, id);
                }
                return;
            }
            case STAGE_STARTED -> s.setState(JobState.RUNNING).setStage(ev.getStageStarted().getStage())
                    .setCascadeStep(ev.getStageStarted().getCascadeStep()).clearProgress();
            case PROGRESS -> {
                s.setState(JobState.RUNNING).setProgress(ev.getProgress().toBuilder().clearPreviewPng());
                if (j.local && !j.previewSeen && ev.getProgress().hasPreviewPng()) {
                    j.previewSeen = true;
                    if (metrics != null) {
                        metrics.firstPreview(System.nanoTime() - j.acceptedNanos);
                    }
                }
            }
            case CANCELLED -> {
                terminal(j, JobState.CANCELLED, null, Records.failure(FailureCode.CANCELLED_BY_CLIENT,
                        "cancelled by " + ev.getCancelled().getReason(), ev.getCancelled().getStage(), "", false), ev);
                return;
            }
            default -> {
            }
        }
        forward(j, ev);
    }

    /** The trace context of a job another replica (or a batch producer) accepted, from its accepted event. */
    private synchronized void remember(String jobId, Context trace) {
        Job j = job(jobId);
        if (!j.local) {
            j.trace = trace;
        }
    }

    /** A local job's end, as a consumer span in the trace its result or dead letter carries. */
    private void traceEnd(ConsumerRecord<String, byte[]> rec, String jobId, JobState state, FailureCode code) {
        synchronized (this) {
            Job j = jobs.get(jobId);
            if (j == null || !j.local) {
                return;
            }
        }
        Span span = tracer().spanBuilder(rec.topic() + " receive").setParent(TraceHeaders.extract(rec.headers()))
                .setSpanKind(SpanKind.CONSUMER)
                .setAttribute("messaging.system", "kafka")
                .setAttribute("messaging.operation.type", "receive")
                .setAttribute("messaging.destination.name", rec.topic())
                .setAttribute("unclip.job_id", jobId)
                .setAttribute("unclip.outcome", state.name().toLowerCase(java.util.Locale.ROOT))
                .startSpan();
        if (state == JobState.FAILED) {
            span.setStatus(StatusCode.ERROR, code.name());
        }
        span.end();
    }

    private Tracer tracer() {
        Tracer t = tracer;
        if (t == null) {
            OpenTelemetry otel = telemetry != null && telemetry.isResolvable() ? telemetry.get() : OpenTelemetry.noop();
            tracer = t = otel.getTracer("io.unclip.gateway");
        }
        return t;
    }

    /** @return whether this result ended the job (false: a duplicate, a late one, a refused resubmission) */
    public synchronized boolean onResult(JobResult r) {
        if (r.getError().getCode() == FailureCode.ALREADY_EXISTS) {
            return false; // a refused re-submission under this id, not the end of the job that has it
        }
        Job j = job(r.getJobId());
        if (j.terminal()) {
            return false;
        }
        GenerateEvent.Builder ev = GenerateEvent.newBuilder().setJobId(r.getJobId()).setTime(r.hasFinishedAt()
                ? r.getFinishedAt() : Records.now());
        switch (r.getStatus()) {
            case SUCCEEDED -> {
                GenerateResult result = GenerateResult.newBuilder().addAllImages(r.getImagesList())
                        .addAllTimings(r.getTimingsList()).setParams(r.getParams()).build();
                ev.setResult(result);
                terminal(j, JobState.SUCCEEDED, result, null, ev.build());
            }
            case CANCELLED -> {
                ev.setCancelled(JobCancelled.newBuilder().setStage(r.getError().getStage())
                        .setReason(r.getError().getMessage()));
                terminal(j, JobState.CANCELLED, null, r.getError(), ev.build());
            }
            default -> {
                ev.setFailed(r.getError());
                terminal(j, JobState.FAILED, null, r.getError(), ev.build());
            }
        }
        return true;
    }

    /** @return whether this dead letter ended the job */
    public synchronized boolean onDeadLetter(DeadLetter d) {
        if (d.getJobId().isEmpty() || d.getCode() == FailureCode.ALREADY_EXISTS) {
            return false;
        }
        Job j = job(d.getJobId());
        if (j.terminal()) {
            return false;
        }
        Failure f = Records.failure(d.getCode() == FailureCode.FAILURE_CODE_UNSPECIFIED ? FailureCode.DEAD_LETTERED
                : d.getCode(), d.getReason(), d.getStage(), "", false);
        terminal(j, JobState.FAILED, null, f, GenerateEvent.newBuilder().setJobId(d.getJobId())
                .setTime(Records.now()).setFailed(f).build());
        return true;
    }

    /** Marks a job cancelled here at once (the records that say so follow through Kafka). */
    public synchronized boolean cancelLocally(String jobId, String reason) {
        Job j = jobs.get(jobId);
        if (j == null || j.terminal()) {
            return false;
        }
        StageName stage = j.status.getState() == JobState.RUNNING ? j.status.getStage() : StageName.STAGE_NAME_UNSPECIFIED;
        terminal(j, JobState.CANCELLED, null, Records.failure(FailureCode.CANCELLED_BY_CLIENT, "cancelled by " + reason,
                stage, "", false), GenerateEvent.newBuilder().setJobId(jobId).setTime(Records.now())
                .setCancelled(JobCancelled.newBuilder().setStage(stage).setReason(reason)).build());
        return true;
    }

    private void terminal(Job j, JobState state, GenerateResult result, Failure failure, GenerateEvent ev) {
        j.terminalAt = Instant.now();
        j.status.setState(state).setUpdatedAt(Records.now()).clearProgress();
        if (result != null) {
            j.status.setResult(result);
        }
        if (failure != null) {
            j.status.setError(failure);
        }
        if (j.local && metrics != null) {
            metrics.jobEnded(state, failure == null ? null : failure.getCode());
        }
        forward(j, ev);
        j.streams.clear();
    }

    private void forward(Job j, GenerateEvent ev) {
        for (ClientStream s : j.streams) {
            s.offer(ev);
        }
    }

    private Job job(String id) {
        Job j = jobs.get(id);
        if (j == null) {
            j = new Job(id);
            jobs.put(id, j);
            evict();
        }
        return j;
    }

    /** Forgets terminal jobs older than the retention, and the oldest terminal ones above the cap. */
    private void evict() {
        if (jobs.size() <= MAX_JOBS && jobs.size() % 256 != 0) {
            return;
        }
        Instant cutoff = Instant.now().minus(RETENTION);
        Iterator<Job> it = jobs.values().iterator();
        int excess = jobs.size() - MAX_JOBS;
        while (it.hasNext()) {
            Job j = it.next();
            if (j.terminal() && (excess > 0 || j.terminalAt.isBefore(cutoff))) {
                it.remove();
                excess--;
            }
        }
        requestIds.values().removeIf(id -> !jobs.containsKey(id));
    }

    /** The JSON result of a batch job, as a JobResult (image paths become file: URIs). */
    static JobResult fromJson(JsonNode n) {
        JobResult.Builder r = JobResult.newBuilder().setJobId(n.path("job_id").asText());
        r.setStatus(JobState.valueOf(n.path("status").asText("FAILED")));
        if (n.has("seed")) {
            r.setSeed(n.get("seed").bigIntegerValue().longValue());
        }
        JsonNode err = n.get("error");
        if (err != null) {
            Failure.Builder f = Failure.newBuilder().setMessage(err.path("message").asText());
            try {
                f.setCode(FailureCode.valueOf(err.path("code").asText("INTERNAL")));
            } catch (IllegalArgumentException e) {
                f.setCode(FailureCode.INTERNAL);
            }
            try {
                f.setStage(StageName.valueOf(err.path("stage").asText("STAGE_NAME_UNSPECIFIED")));
            } catch (IllegalArgumentException e) {
                // leave unspecified
            }
            r.setError(f.setField(err.path("field").asText("")));
        }
        for (JsonNode img : n.path("images")) {
            r.addImages(io.unclip.api.v1.GeneratedImage.newBuilder().setIndex(img.path("index").asInt())
                    .setWidth(img.path("width").asInt()).setHeight(img.path("height").asInt())
                    .setSeed(img.path("seed").bigIntegerValue().longValue())
                    .setImage(io.unclip.api.v1.ImageRef.newBuilder().setUri(java.nio.file.Path.of(img.path("path")
                            .asText()).toUri().toString())));
        }
        return r.build();
    }
}
