package io.unclip.textencoder;

import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;
import io.unclip.api.v1.EncodeReply;
import io.unclip.api.v1.EncodeRequest;
import io.unclip.api.v1.TextEncoderService;
import io.unclip.api.validate.GrpcStatuses;
import io.unclip.api.validate.InvalidRequestException;
import io.unclip.service.StageModel;

/** gRPC adapter of the text encoder stage: validate, then encode (once a model is loaded). */
@GrpcService
public class TextEncoderGrpcService implements TextEncoderService {
    private static final Logger LOG = Logger.getLogger(TextEncoderGrpcService.class);

    private final EncodeRequestValidator validator = new EncodeRequestValidator();

    @Inject
    StageModel model;

    @Override
    public Uni<EncodeReply> encode(EncodeRequest request) {
        try {
            validator.validate(request);
            StageModel.Availability a = model.availability();
            if (!a.loaded()) {
                return Uni.createFrom().failure(a.error());
            }
            return Uni.createFrom().failure(Status.UNIMPLEMENTED.withDescription("text encoding").asRuntimeException());
        } catch (InvalidRequestException e) {
            return Uni.createFrom().failure(GrpcStatuses.invalidArgument(e));
        } catch (RuntimeException e) {
            LOG.error("text encoder request failed", e);
            return Uni.createFrom().failure(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
        }
    }
}
