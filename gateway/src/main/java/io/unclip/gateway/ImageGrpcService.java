package io.unclip.gateway;

import java.util.function.Supplier;

import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.unclip.api.v1.CancelReply;
import io.unclip.api.v1.CancelRequest;
import io.unclip.api.v1.CaptionRequest;
import io.unclip.api.v1.CaptionToken;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GetJobRequest;
import io.unclip.api.v1.ImageService;
import io.unclip.api.v1.InterpolateRequest;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.JobStatus;
import io.unclip.api.v1.VariationsRequest;
import io.unclip.api.validate.GrpcStatuses;
import io.unclip.api.validate.InvalidRequestException;

/**
 * The public ImageService: validates every request at the edge; job submission is refused with
 * UNAVAILABLE until the distributed pipeline is wired; GetJob / Cancel look jobs up in the
 * {@link JobRegistry} (NOT_FOUND for unknown ids).
 */
@GrpcService
public class ImageGrpcService implements ImageService {
    private static final Logger LOG = Logger.getLogger(ImageGrpcService.class);

    private final ImageRequestValidator validator = new ImageRequestValidator();

    @Inject
    Pipeline pipeline;

    @Inject
    JobRegistry jobs;

    @Override
    public Multi<GenerateEvent> generate(GenerateRequest request) {
        return submit(() -> validator.validate(request));
    }

    @Override
    public Multi<GenerateEvent> variations(VariationsRequest request) {
        return submit(() -> validator.validate(request));
    }

    @Override
    public Multi<GenerateEvent> interpolate(InterpolateRequest request) {
        return submit(() -> validator.validate(request));
    }

    @Override
    public Multi<CaptionToken> caption(CaptionRequest request) {
        return submit(() -> validator.validate(request));
    }

    @Override
    public Uni<CancelReply> cancel(CancelRequest request) {
        return lookup(() -> validator.validate(request)).flatMap(job -> {
            if (isTerminal(job.getState())) {
                // idempotent: a finished or already-cancelled job stays as it is
                return Uni.createFrom().item(CancelReply.newBuilder()
                        .setJobId(job.getJobId())
                        .setState(job.getState())
                        .setCancelled(false)
                        .build());
            }
            return Uni.createFrom().failure(pipeline.unavailable());
        });
    }

    static boolean isTerminal(JobState state) {
        return state == JobState.SUCCEEDED || state == JobState.FAILED || state == JobState.CANCELLED;
    }

    @Override
    public Uni<JobStatus> getJob(GetJobRequest request) {
        return lookup(() -> validator.validate(request));
    }

    private <T> Multi<T> submit(Supplier<?> validation) {
        try {
            validation.get();
            if (!pipeline.started()) {
                return Multi.createFrom().failure(pipeline.unavailable());
            }
            return Multi.createFrom().failure(Status.UNIMPLEMENTED.withDescription("job submission").asRuntimeException());
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(toStatus(e));
        }
    }

    private Uni<JobStatus> lookup(Supplier<String> validation) {
        try {
            String jobId = validation.get();
            return jobs.find(jobId)
                    .map(job -> Uni.createFrom().item(job))
                    .orElseGet(() -> Uni.createFrom().failure(
                            Status.NOT_FOUND.withDescription("job " + jobId + " not found").asRuntimeException()));
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(toStatus(e));
        }
    }

    private static StatusRuntimeException toStatus(RuntimeException e) {
        if (e instanceof InvalidRequestException invalid) {
            return GrpcStatuses.invalidArgument(invalid);
        }
        LOG.error("request failed", e);
        return Status.INTERNAL.withDescription(e.toString()).asRuntimeException();
    }
}
