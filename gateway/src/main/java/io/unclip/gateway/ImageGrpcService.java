package io.unclip.gateway;

import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.grpc.Context;
import io.grpc.Deadline;
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
import io.unclip.api.v1.JobStatus;
import io.unclip.api.v1.VariationsRequest;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.GrpcErrors;
import io.unclip.service.GrpcStatuses;
import io.unclip.service.stage.ImageRequestValidator;
import jakarta.inject.Inject;

/**
 * The public ImageService over gRPC: the gRPC door of {@link ImageJobs} (which owns the job logic; the HTTP doors
 * share it), with the call's deadline as the job's. Refusals become statuses: bad input INVALID_ARGUMENT (the
 * description starts with the field path, a BadRequest detail names it), unknown jobs NOT_FOUND, the pipeline not
 * started UNAVAILABLE, too many open streams RESOURCE_EXHAUSTED. Caption is forwarded to the captioner service
 * ({@link Captions}).
 */
@GrpcService
public class ImageGrpcService implements ImageService {
    private static final Logger LOG = Logger.getLogger(ImageGrpcService.class);

    private final ImageRequestValidator validator = new ImageRequestValidator();

    @Inject
    ImageJobs jobs;

    @Inject
    Captions captions;

    @Override
    public Multi<GenerateEvent> generate(GenerateRequest request) {
        return stream(() -> jobs.generate(request, deadline()));
    }

    @Override
    public Multi<GenerateEvent> variations(VariationsRequest request) {
        return stream(() -> jobs.variations(request, deadline()));
    }

    @Override
    public Multi<GenerateEvent> interpolate(InterpolateRequest request) {
        return stream(() -> jobs.interpolate(request, deadline()));
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
        return unary(() -> jobs.cancel(request));
    }

    @Override
    public Uni<JobStatus> getJob(GetJobRequest request) {
        return unary(() -> jobs.getJob(request));
    }

    private static Multi<GenerateEvent> stream(Supplier<Multi<GenerateEvent>> call) {
        try {
            return call.get().onFailure().transform(t -> t instanceof RuntimeException e ? toStatus(e) : t);
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(toStatus(e));
        }
    }

    private static <T> Uni<T> unary(Supplier<T> call) {
        try {
            return Uni.createFrom().item(call.get());
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(toStatus(e));
        }
    }

    /** The call's deadline as an instant, or null without one. */
    private static Instant deadline() {
        Deadline d = Context.current().getDeadline();
        return d == null ? null : Instant.now().plusMillis(d.timeRemaining(TimeUnit.MILLISECONDS));
    }

    static StatusRuntimeException toStatus(RuntimeException e) {
        if (e instanceof InvalidRequestException invalid) {
            return GrpcStatuses.invalidArgument(invalid);
        }
        if (e instanceof JobRefusedException refused) {
            Status code = switch (refused.reason()) {
                case NOT_FOUND -> Status.NOT_FOUND;
                case UNAVAILABLE -> Status.UNAVAILABLE;
                case TOO_MANY_STREAMS -> Status.RESOURCE_EXHAUSTED;
                case UNIMPLEMENTED -> Status.UNIMPLEMENTED;
            };
            return code.withDescription(refused.getMessage()).asRuntimeException();
        }
        if (e instanceof StatusRuntimeException s) {
            return s;
        }
        return GrpcErrors.internal(LOG, e);
    }
}
