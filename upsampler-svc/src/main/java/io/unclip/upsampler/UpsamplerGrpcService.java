package io.unclip.upsampler;

import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.unclip.api.v1.UpsampleEvent;
import io.unclip.api.v1.UpsampleRequest;
import io.unclip.api.v1.UpsamplerService;
import io.unclip.api.validate.GrpcStatuses;
import io.unclip.api.validate.InvalidRequestException;
import io.unclip.service.StageModel;

/** gRPC adapter of the upsampler stage: validate, then upsample (once a model is loaded). */
@GrpcService
public class UpsamplerGrpcService implements UpsamplerService {
    private static final Logger LOG = Logger.getLogger(UpsamplerGrpcService.class);

    private final UpsampleRequestValidator validator = new UpsampleRequestValidator();

    @Inject
    StageModel model;

    @Override
    public Multi<UpsampleEvent> upsample(UpsampleRequest request) {
        try {
            validator.validate(request);
            StageModel.Availability a = model.availability();
            if (!a.loaded()) {
                return Multi.createFrom().failure(a.error());
            }
            return Multi.createFrom().failure(Status.UNIMPLEMENTED.withDescription("upsampling").asRuntimeException());
        } catch (InvalidRequestException e) {
            return Multi.createFrom().failure(GrpcStatuses.invalidArgument(e));
        } catch (RuntimeException e) {
            LOG.error("upsampler request failed", e);
            return Multi.createFrom().failure(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
        }
    }
}
