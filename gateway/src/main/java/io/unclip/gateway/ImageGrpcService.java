package io.unclip.gateway;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.unclip.api.v1.CancelReply;
import io.unclip.api.v1.CancelRequest;
import io.unclip.api.v1.CaptionRequest;
import io.unclip.api.v1.CaptionToken;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GetJobRequest;
import io.unclip.api.v1.ImageService;
import io.unclip.api.v1.InterpolateRequest;
import io.unclip.api.v1.JobAccepted;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.JobStatus;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.VariationsRequest;
import io.unclip.engine.pipeline.CascadePlan;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.GrpcErrors;
import io.unclip.service.GrpcStatuses;
import io.unclip.service.kafka.Topics;
import io.unclip.service.record.Records;
import io.unclip.service.stage.ImageRequestValidator;
import io.unclip.service.stage.PlanSteps;
import io.unclip.service.telemetry.LogContext;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

/**
 * The public ImageService on the distributed pipeline.
 *
 * <ul>
 *   <li>Generate: validates at the edge, resolves the seed, sends {@code accepted} to the client,
 *       queues the job's first task on stage.text-encoder and streams the job's events (from the
 *       {@link JobHub}) until its result, failure or cancellation. A client that goes away (or
 *       whose deadline passes) cancels its job.</li>
 *   <li>GetJob / Cancel: any job this gateway has seen events of (NOT_FOUND otherwise).</li>
 *   <li>Caption: forwarded to the captioner service over gRPC ({@link Captions}).</li>
 *   <li>Variations / Interpolate: as Generate; the text encoder's service encodes the image(s)
 *       with the bundle's image encoder and the job skips the prior. Interpolation towards a
 *       prompt is UNIMPLEMENTED here (it needs the captioner's description of image_a).</li>
 * </ul>
 *
 * <p>A job's trace starts here: a producer span for its first task, child of the gRPC call's span
 * (itself the caller's child when the call carried a traceparent), whose context every record of
 * the job carries ({@link io.unclip.service.telemetry.TraceHeaders}). Log lines of a job's
 * submission carry its job id and request id in the MDC ({@link LogContext}).
 */
@GrpcService
public class ImageGrpcService implements ImageService {
    private static final Logger LOG = Logger.getLogger(ImageGrpcService.class);
    private static final SecureRandom SEEDS = new SecureRandom();

    private final ImageRequestValidator validator = new ImageRequestValidator();

    @Inject
    Pipeline pipeline;

    @Inject
    JobHub hub;

    @Inject
    Captions captions;

    @Inject
    GatewayMetrics metrics;

    @Inject
    Instance<OpenTelemetry> telemetry;

    @Override
    public Multi<GenerateEvent> generate(GenerateRequest request) {
        try {
            ImageRequestValidator.ValidGenerate valid = validator.validate(request);
            if (!pipeline.started()) {
                return Multi.createFrom().failure(pipeline.unavailable());
            }
            List<StageName> plan = List.of();
            if (pipeline.plan().isPresent()) {
                plan = PlanSteps.names(pipeline.plan().get(), CascadePlan.Job.GENERATE, valid.size());
            }
            if (!request.getRequestId().isEmpty()) {
                var existing = hub.jobForRequest(request.getRequestId());
                if (existing.isPresent()) {
                    return follow(existing.get());
                }
            }
            long seed = request.hasSeed() ? request.getSeed() : SEEDS.nextLong();
            return submit(JobRequest.newBuilder().setGenerate(request.toBuilder().setSeed(seed)), seed,
                    request.getRequestId(), plan, Context.current().getDeadline());
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(toStatus(e));
        }
    }

    /**
     * Queues the job (its request and resolved seed already set on {@code job}) on
     * stage.text-encoder and streams its events.
     */
    private Multi<GenerateEvent> submit(JobRequest.Builder job, long seed, String requestId, List<StageName> plan,
                                        Deadline deadline) {
        String jobId = UUID.randomUUID().toString();
        job.setJobId(jobId)
                .setSubmittedAt(Records.now())
                .setSubmitter("gateway/" + pipeline.instance())
                .setStreamProgress(true);
        if (deadline != null) {
            job.setDeadline(Records.timestamp(Instant.now().plusMillis(deadline.timeRemaining(TimeUnit.MILLISECONDS))));
        }
        StageTask task = StageTask.newBuilder().setJobId(jobId).setStage(StageName.TEXT_ENCODER).setAttempt(1)
                .setRequest(job).setCreatedAt(Records.now()).build();
        GenerateEvent accepted = GenerateEvent.newBuilder().setJobId(jobId).setTime(Records.now())
                .setAccepted(JobAccepted.newBuilder().setJobId(jobId).setSeed(seed).addAllPlan(plan)
                        .setRequestId(requestId)).build();
        io.opentelemetry.context.Context call = io.opentelemetry.context.Context.current(); // the gRPC call's span
        return Multi.createFrom().emitter(em -> {
            Span span = (telemetry.isResolvable() ? telemetry.get() : OpenTelemetry.noop()).getTracer("io.unclip.gateway")
                    .spanBuilder(Topics.TEXT_ENCODER + " publish").setParent(call).setSpanKind(SpanKind.PRODUCER)
                    .setAttribute("messaging.system", "kafka")
                    .setAttribute("messaging.operation.type", "send")
                    .setAttribute("messaging.destination.name", Topics.TEXT_ENCODER)
                    .setAttribute("unclip.job_id", jobId)
                    .setAttribute("unclip.request_id", requestId)
                    .startSpan();
            io.opentelemetry.context.Context trace = call.with(span);
            try (Scope scope = trace.makeCurrent(); LogContext log = LogContext.open().put(LogContext.JOB_ID, jobId)
                    .put(LogContext.REQUEST_ID, requestId).span(span.getSpanContext())) {
                ClientStream stream = new ClientStream(em);
                metrics.streamOpened();
                LOG.debugf("job %s accepted (request id '%s')", jobId, requestId);
                hub.accepted(jobId, requestId, trace);
                hub.subscribe(jobId, stream);
                stream.offer(accepted);
                em.onTermination(() -> {
                    metrics.streamClosed();
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
            ClientStream stream = new ClientStream(em);
            metrics.streamOpened();
            em.onTermination(() -> {
                metrics.streamClosed();
                hub.unsubscribe(jobId, stream);
            });
            JobStatus s = hub.find(jobId).orElseThrow();
            stream.offer(GenerateEvent.newBuilder().setJobId(jobId).setTime(Records.now())
                    .setAccepted(JobAccepted.newBuilder().setJobId(jobId)).build());
            if (isTerminal(s.getState())) {
                stream.offer(terminalEvent(s));
                return;
            }
            hub.subscribe(jobId, stream);
        });
    }

    static GenerateEvent terminalEvent(JobStatus s) {
        GenerateEvent.Builder e = GenerateEvent.newBuilder().setJobId(s.getJobId()).setTime(s.getUpdatedAt());
        return switch (s.getState()) {
            case SUCCEEDED -> e.setResult(s.getResult()).build();
            case CANCELLED -> e.setCancelled(io.unclip.api.v1.JobCancelled.newBuilder().setStage(s.getError().getStage())
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

    @Override
    public Multi<GenerateEvent> variations(VariationsRequest request) {
        try {
            validator.validate(request);
            long seed = request.hasSeed() ? request.getSeed() : SEEDS.nextLong();
            return fromImages(JobRequest.newBuilder().setVariations(request.toBuilder().setSeed(seed)), seed,
                    request.getRequestId(), request.getSize());
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(toStatus(e));
        }
    }

    @Override
    public Multi<GenerateEvent> interpolate(InterpolateRequest request) {
        try {
            validator.validate(request);
            if (request.hasTowardsPrompt()) {
                return Multi.createFrom().failure(Status.UNIMPLEMENTED.withDescription("towards_prompt: interpolation"
                        + " towards a prompt needs the captioner's description of image_a and runs embedded only"
                        + " (unclip interpolate --towards); image_b interpolations run here").asRuntimeException());
            }
            long seed = request.hasSeed() ? request.getSeed() : SEEDS.nextLong();
            return fromImages(JobRequest.newBuilder().setInterpolate(request.toBuilder().setSeed(seed)), seed,
                    request.getRequestId(), request.getSize());
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(toStatus(e));
        }
    }

    /** Variations and interpolations: the text encoder's service encodes the images, then decoder and upsamplers. */
    private Multi<GenerateEvent> fromImages(JobRequest.Builder job, long seed, String requestId, int size) {
        if (!pipeline.started()) {
            return Multi.createFrom().failure(pipeline.unavailable());
        }
        List<StageName> plan = List.of();
        if (pipeline.plan().isPresent()) {
            plan = PlanSteps.names(pipeline.plan().get(), job.hasVariations() ? CascadePlan.Job.VARIATIONS
                    : CascadePlan.Job.INTERPOLATE, size);
        }
        if (!requestId.isEmpty()) {
            var existing = hub.jobForRequest(requestId);
            if (existing.isPresent()) {
                return follow(existing.get());
            }
        }
        return submit(job, seed, requestId, plan, Context.current().getDeadline());
    }

    @Override
    public Multi<CaptionToken> caption(CaptionRequest request) {
        try {
            validator.validate(request);
            return captions.caption(request);
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(toStatus(e));
        }
    }

    @Override
    public Uni<CancelReply> cancel(CancelRequest request) {
        return lookup(() -> validator.validate(request)).map(job -> {
            boolean cancelled = !isTerminal(job.getState()) && cancel(job.getJobId(), "client");
            JobState state = cancelled ? JobState.CANCELLED : hub.find(job.getJobId()).map(JobStatus::getState)
                    .orElse(job.getState());
            return CancelReply.newBuilder().setJobId(job.getJobId()).setState(state).setCancelled(cancelled).build();
        });
    }

    static boolean isTerminal(JobState state) {
        return state == JobState.SUCCEEDED || state == JobState.FAILED || state == JobState.CANCELLED;
    }

    @Override
    public Uni<JobStatus> getJob(GetJobRequest request) {
        return lookup(() -> validator.validate(request));
    }

    private Uni<JobStatus> lookup(Supplier<String> validation) {
        try {
            String jobId = validation.get();
            return hub.find(jobId)
                    .map(job -> Uni.createFrom().item(job))
                    .orElseGet(() -> Uni.createFrom().failure(
                            Status.NOT_FOUND.withDescription("job " + jobId + " not found").asRuntimeException()));
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(toStatus(e));
        }
    }

    static StatusRuntimeException toStatus(RuntimeException e) {
        if (e instanceof InvalidRequestException invalid) {
            return GrpcStatuses.invalidArgument(invalid);
        }
        if (e instanceof StatusRuntimeException s) {
            return s;
        }
        return GrpcErrors.internal(LOG, e);
    }
}
