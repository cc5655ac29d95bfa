package io.unclip.captioner;

import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.unclip.api.v1.CaptionImageRequest;
import io.unclip.api.v1.CaptionToken;
import io.unclip.api.v1.CaptionerService;
import io.unclip.api.validate.GrpcStatuses;
import io.unclip.api.validate.InvalidRequestException;
import io.unclip.service.StageModel;

/** gRPC adapter of the captioner stage: validate, then caption (once a model is loaded). */
@GrpcService
public class CaptionerGrpcService implements CaptionerService {
    private static final Logger LOG = Logger.getLogger(CaptionerGrpcService.class);

    private final CaptionRequestValidator validator = new CaptionRequestValidator();

    @Inject
    StageModel model;

    @Override
    public Multi<CaptionToken> caption(CaptionImageRequest request) {
        try {
            validator.validate(request);
            StageModel.Availability a = model.availability();
            if (!a.loaded()) {
                return Multi.createFrom().failure(a.error());
            }
            return Multi.createFrom().failure(Status.UNIMPLEMENTED.withDescription("captioning").asRuntimeException());
        } catch (InvalidRequestException e) {
            return Multi.createFrom().failure(GrpcStatuses.invalidArgument(e));
        } catch (RuntimeException e) {
            LOG.error("captioner request failed", e);
            return Multi.createFrom().failure(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
        }
    }
}
