package io.unclip.gateway;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiEmitter;
import io.unclip.api.v1.CancelReply;
import io.unclip.api.v1.CancelRequest;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GetJobRequest;
import io.unclip.api.v1.InterpolateRequest;
import io.unclip.api.v1.JobAccepted;
import io.unclip.api.v1.JobCancelled;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.JobStatus;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.VariationsRequest;
import io.unclip.engine.pipeline.CascadePlan;
import io.unclip.service.kafka.Topics;
import io.unclip.service.record.Records;
import io.unclip.service.stage.ImageRequestValidator;
import io.unclip.service.stage.PlanSteps;
import io.unclip.service.telemetry.LogContext;

/**
 * The gateway's jobs, whichever door they come through (gRPC ImageService, the HTTP doors): validates at the edge,
 * resolves the seed, queues the job's first task on stage.text-encoder and streams the job's events (from the
 * {@link JobHub}) until its result, failure or cancellation. A stream whose subscriber goes away cancels its job.
 * A request_id already given to a job follows that job instead (idempotent resubmission).
 *
 * <p>Refusals before any event are exceptions the doors map to their codes: bad input is
 * {@link io.unclip.engine.stage.InvalidRequestException} (thrown by each method itself, before any stream), the rest
 * {@link JobRefusedException} (unknown job, pipeline not started, more than {@code unclip.gateway.max-streams} open
 * streams, a request this deployment does not serve). The stream limit is checked when the call is made and held
 * while a stream is subscribed; a stream subscribed past it (a race of calls) fails with TOO_MANY_STREAMS.
 *
 * <p>A job's trace starts here: a producer span for its first task, child of the calling door's span (current when
 * the method is called), whose context every record of the job carries. Log lines of a job's submission carry its
 * job id and request id in the MDC ({@link LogContext}).
 */
@ApplicationScoped
public class ImageJobs {
    private static final Logger LOG = Logger.getLogger(ImageJobs.class);
    private static final SecureRandom SEEDS = new SecureRandom();

    private final ImageRequestValidator validator = new ImageRequestValidator();
    private final AtomicInteger open = new AtomicInteger();

    @ConfigProperty(name = "unclip.gateway.max-streams", defaultValue = "256")
    int maxStreams;

    @Inject
    Pipeline pipeline;

    @Inject
    JobHub hub;

    @Inject
    GatewayMetrics metrics;

    @Inject
    Instance<OpenTelemetry> telemetry;

    /**
     * Text to image(s).
     *
     * @param deadline when the caller stops waiting (the job's deadline), or null
     */
    public Multi<GenerateEvent> generate(GenerateRequest request, Instant deadline) {
        ImageRequestValidator.ValidGenerate valid = validator.validate(request);
        requireStarted();
        List<StageName> plan = plan(CascadePlan.Job.GENERATE, valid.size());
        Optional<Multi<GenerateEvent>> existing = existing(request.getRequestId());
        if (existing.isPresent()) {
            return existing.get();
        }
        requireStreamRoom();
        long seed = request.hasSeed() ? request.getSeed() : SEEDS.nextLong();
        return submit(JobRequest.newBuilder().setGenerate(request.toBuilder().setSeed(seed)), seed,
                request.getRequestId(), plan, deadline);
    }

    /** Variations of an uploaded image: the text encoder's service encodes it, the job skips the prior. */
    public Multi<GenerateEvent> variations(VariationsRequest request, Instant deadline) {
        validator.validate(request);
        long seed = request.hasSeed() ? request.getSeed() : SEEDS.nextLong();
        return fromImages(JobRequest.newBuilder().setVariations(request.toBuilder().setSeed(seed)), seed,
                request.getRequestId(), request.getSize(), deadline);
    }

    /** Frames between two images; towards a prompt is UNIMPLEMENTED here (it needs the captioner's description). */
    public Multi<GenerateEvent> interpolate(InterpolateRequest request, Instant deadline) {
        validator.validate(request);
        if (request.hasTowardsPrompt()) {
            throw new JobRefusedException(JobRefusedException.Reason.UNIMPLEMENTED, "towards_prompt: interpolation"
                    + " towards a prompt needs the captioner's description of image_a and runs embedded only"
                    + " (unclip interpolate --towards); image_b interpolations run here");
        }
        long seed = request.hasSeed() ? request.getSeed() : SEEDS.nextLong();
        return fromImages(JobRequest.newBuilder().setInterpolate(request.toBuilder().setSeed(seed)), seed,
                request.getRequestId(), request.getSize(), deadline);
    }

    /** Cancels a queued or running job; a finished one stays as it is. */
    public CancelReply cancel(CancelRequest request) {
        JobStatus job = find(validator.validate(request));
        boolean cancelled = !isTerminal(job.getState()) && cancel(job.getJobId(), "client");
        JobState state = cancelled ? JobState.CANCELLED : hub.find(job.getJobId()).map(JobStatus::getState)
                .orElse(job.getState());
        return CancelReply.newBuilder().setJobId(job.getJobId()).setState(state).setCancelled(cancelled).build();
    }

    public JobStatus getJob(GetJobRequest request) {
        return find(validator.validate(request));
    }

    /** The bundle's cascade, when the gateway read one (unclip.models.dir). */
    public Optional<CascadePlan> cascade() {
        return pipeline.plan();
    }

    /** Job streams open now (at most {@code unclip.gateway.max-streams}). */
    public int openStreams() {
        return open.get();
    }

    private JobStatus find(String jobId) {
        return hub.find(jobId).orElseThrow(() -> new JobRefusedException(JobRefusedException.Reason.NOT_FOUND,
                "job " + jobId + " not found"));
    }

    private void requireStarted() {
        if (!pipeline.started()) {
            throw new JobRefusedException(JobRefusedException.Reason.UNAVAILABLE, pipeline.reason());
        }
    }

    private void requireStreamRoom() {
        if (open.get() >= maxStreams) {
            throw tooManyStreams();
        }
    }

    private JobRefusedException tooManyStreams() {
        return new JobRefusedException(JobRefusedException.Reason.TOO_MANY_STREAMS, maxStreams
                + " job streams are open on this gateway (unclip.gateway.max-streams); retry later");
    }

    /** The stages the job will run, as its accepted event lists them (empty without the bundle). */
    private List<StageName> plan(CascadePlan.Job job, int size) {
        return pipeline.plan().map(p -> PlanSteps.names(p, job, size)).orElse(List.of());
    }

    private Optional<Multi<GenerateEvent>> existing(String requestId) {
        if (requestId.isEmpty()) {
            return Optional.empty();
        }
        return hub.jobForRequest(requestId).map(id -> {
            requireStreamRoom();
            return follow(id);
        });
    }

    /** Variations and interpolations: the text encoder's service encodes the images, then decoder and upsamplers. */
    private Multi<GenerateEvent> fromImages(JobRequest.Builder job, long seed, String requestId, int size,
                                            Instant deadline) {
        requireStarted();
        List<StageName> plan = plan(job.hasVariations() ? CascadePlan.Job.VARIATIONS : CascadePlan.Job.INTERPOLATE,
                size);
        Optional<Multi<GenerateEvent>> existing = existing(requestId);
        if (existing.isPresent()) {
            return existing.get();
        }
        requireStreamRoom();
        return submit(job, seed, requestId, plan, deadline);
    }

    /**
     * Queues the job (its request and resolved seed already set on {@code job}) on stage.text-encoder when the
     * stream is subscribed, and streams its events.
     */
    private Multi<GenerateEvent> submit(JobRequest.Builder job, long seed, String requestId, List<StageName> plan,
                                        Instant deadline) {
        String jobId = UUID.randomUUID().toString();
        job.setJobId(jobId)
                .setSubmittedAt(Records.now())
                .setSubmitter("gateway/" + pipeline.instance())
                .setStreamProgress(true);
        if (deadline != null) {
            job.setDeadline(Records.timestamp(deadline));
        }
        StageTask task = StageTask.newBuilder().setJobId(jobId).setStage(StageName.TEXT_ENCODER).setAttempt(1)
                .setRequest(job).setCreatedAt(Records.now()).build();
        GenerateEvent accepted = GenerateEvent.newBuilder().setJobId(jobId).setTime(Records.now())
                .setAccepted(JobAccepted.newBuilder().setJobId(jobId).setSeed(seed).addAllPlan(plan)
                        .setRequestId(requestId)).build();
        Context call = Context.current(); // the calling door's span
        return Multi.createFrom().emitter(em -> {
            if (!opened(em)) {
                return;
            }
            Span span = (telemetry.isResolvable() ? telemetry.get() : OpenTelemetry.noop()).getTracer("io.unclip.gateway")
                    .spanBuilder(Topics.TEXT_ENCODER + " publish").setParent(call).setSpanKind(SpanKind.PRODUCER)
                    .setAttribute("messaging.system", "kafka")
                    .setAttribute("messaging.operation.type", "send")
                    .setAttribute("messaging.destination.name", Topics.TEXT_ENCODER)
                    .setAttribute("unclip.job_id", jobId)
                    .setAttribute("unclip.request_id", requestId)
                    .startSpan();
            Context trace = call.with(span);
            try (Scope scope = trace.makeCurrent(); LogContext log = LogContext.open().put(LogContext.JOB_ID, jobId)
                    .put(LogContext.REQUEST_ID, requestId).span(span.getSpanContext())) {
                ClientStream stream = new ClientStream(em);
                LOG.debugf("job %s accepted (request id '%s')", jobId, requestId);
                hub.accepted(jobId, requestId, trace);
                hub.subscribe(jobId, stream);
                stream.offer(accepted);
                em.onTermination(() -> {
                    closed();
                    hub.unsubscribe(jobId, stream);
                    if (em.isCancelled()) {
                        cancel(jobId, "disconnect");
                    }
                });
                pipeline.submit(task, accepted).whenComplete((ok, e) -> {
                    if (e != null) {
                        span.recordException(e);
                        span.setStatus(StatusCode.ERROR, "not queued");
                        try (LogContext l = LogContext.open().put(LogContext.JOB_ID, jobId)
                                .put(LogContext.REQUEST_ID, requestId).span(span.getSpanContext())) {
                            LOG.errorf("job %s not queued: %s", jobId, e);
                        }
                        hub.onResult(Records.failedResult(jobId, Records.failure(FailureCode.MODEL_UNAVAILABLE,
                                "the job could not be queued: " + e.getMessage(), null, "", true), task));
                    }
                    span.end();
                });
            }
        });
    }

    /** Streams an existing job's events from now on (idempotent resubmission by request_id). */
    private Multi<GenerateEvent> follow(String jobId) {
        return Multi.createFrom().emitter(em -> {
            if (!opened(em)) {
                return;
            }
            ClientStream stream = new ClientStream(em);
            em.onTermination(() -> {
                closed();
                hub.unsubscribe(jobId, stream);
            });
            JobStatus s = hub.find(jobId).orElse(null);
            if (s == null) { // evicted between the call and the subscription
                stream.fail(new JobRefusedException(JobRefusedException.Reason.NOT_FOUND, "job " + jobId
                        + " not found"));
                return;
            }
            stream.offer(GenerateEvent.newBuilder().setJobId(jobId).setTime(Records.now())
                    .setAccepted(JobAccepted.newBuilder().setJobId(jobId)).build());
            if (isTerminal(s.getState())) {
                stream.offer(terminalEvent(s));
                return;
            }
            hub.subscribe(jobId, stream);
        });
    }

    /** Takes a stream slot for a subscribed stream; false (the stream failed) when there is none. */
    private boolean opened(MultiEmitter<? super GenerateEvent> em) {
        if (open.incrementAndGet() > maxStreams) {
            open.decrementAndGet();
            em.fail(tooManyStreams());
            return false;
        }
        metrics.streamOpened();
        return true;
    }

    private void closed() {
        open.decrementAndGet();
        metrics.streamClosed();
    }

    static GenerateEvent terminalEvent(JobStatus s) {
        GenerateEvent.Builder e = GenerateEvent.newBuilder().setJobId(s.getJobId()).setTime(s.getUpdatedAt());
        return switch (s.getState()) {
            case SUCCEEDED -> e.setResult(s.getResult()).build();
            case CANCELLED -> e.setCancelled(JobCancelled.newBuilder().setStage(s.getError().getStage())
                    .setReason(s.getError().getMessage())).build();
            default -> e.setFailed(s.getError()).build();
        };
    }

    private boolean cancel(String jobId, String why) {
        JobStatus s = hub.find(jobId).orElse(null);
        if (s == null || isTerminal(s.getState())) {
            return false;
        }
        StageName stage = s.getState() == JobState.RUNNING ? s.getStage() : StageName.STAGE_NAME_UNSPECIFIED;
        if (!hub.cancelLocally(jobId, why)) {
            return false;
        }
        // the cancellation's records belong to the job's trace, whichever call or thread sends them
        try (Scope scope = hub.trace(jobId).makeCurrent(); LogContext log = LogContext.open().put(LogContext.JOB_ID, jobId)) {
            pipeline.cancel(jobId, why, stage);
        } catch (RuntimeException e) {
            LOG.warnf("job %s: cancellation not sent: %s", jobId, e);
        }
        return true;
    }

    static boolean isTerminal(JobState state) {
        return state == JobState.SUCCEEDED || state == JobState.FAILED || state == JobState.CANCELLED;
    }
}
