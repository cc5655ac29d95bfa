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

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;

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

/**
 * The jobs this gateway knows (every job whose events it has seen, from any gateway replica or
 * batch producer) and the client streams waiting on them. Fed by the gateway's broadcast
 * consumer of unclip.events, unclip.results and unclip.dead-letter: it keeps each job's
 * {@link JobStatus} (GetJob) and forwards the job's events to its streams by job id. The first
 * terminal record of a job wins (result, failure, dead letter or cancellation); later ones
 * (redeliveries, races) are dropped, so a client sees exactly one terminal event.
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

    /** A job accepted here: known (QUEUED) before its task is even sent. */
    public synchronized void accepted(String jobId, String requestId) {
        job(jobId);
        if (requestId != null && !requestId.isEmpty()) {
            requestIds.put(requestId, jobId);
        }
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
                case Topics.EVENTS -> onEvent(JobEvent.parseFrom(rec.value()));
                case Topics.RESULTS -> {
                    if (RecordHeaders.JSON.equals(RecordHeaders.text(rec.headers(), RecordHeaders.RESULT_FORMAT))) {
                        onResult(fromJson(ResultJson.parse(rec.value())));
                    } else {
                        onResult(JobResult.parseFrom(rec.value()));
                    }
                }
                case Topics.DEAD_LETTER -> onDeadLetter(DeadLetter.parseFrom(rec.value()));
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
            case PROGRESS -> s.setState(JobState.RUNNING).setProgress(ev.getProgress().toBuilder().clearPreviewPng());
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

    public synchronized void onResult(JobResult r) {
        if (r.getError().getCode() == FailureCode.ALREADY_EXISTS) {
            return; // a refused re-submission under this id, not the end of the job that has it
        }
        Job j = job(r.getJobId());
        if (j.terminal()) {
            return;
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
    }

    public synchronized void onDeadLetter(DeadLetter d) {
        if (d.getJobId().isEmpty() || d.getCode() == FailureCode.ALREADY_EXISTS) {
            return;
        }
        Job j = job(d.getJobId());
        if (j.terminal()) {
            return;
        }
        Failure f = Records.failure(d.getCode() == FailureCode.FAILURE_CODE_UNSPECIFIED ? FailureCode.DEAD_LETTERED
                : d.getCode(), d.getReason(), d.getStage(), "", false);
        terminal(j, JobState.FAILED, null, f, GenerateEvent.newBuilder().setJobId(d.getJobId())
                .setTime(Records.now()).setFailed(f).build());
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
