package io.unclip.decoder;

import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.unclip.api.v1.DecodeEvent;
import io.unclip.api.v1.DecodeRequest;
import io.unclip.api.v1.DecoderService;
import io.unclip.api.validate.GrpcStatuses;
import io.unclip.api.validate.InvalidRequestException;
import io.unclip.service.StageModel;

/** gRPC adapter of the decoder stage: validate, then decode (once a model is loaded). */
@GrpcService
public class DecoderGrpcService implements DecoderService {
    private static final Logger LOG = Logger.getLogger(DecoderGrpcService.class);

    private final DecodeRequestValidator validator = new DecodeRequestValidator();

    @Inject
    StageModel model;

    @Override
    public Multi<DecodeEvent> decode(DecodeRequest request) {
        try {
            validator.validate(request);
            StageModel.Availability a = model.availability();
            if (!a.loaded()) {
                return Multi.createFrom().failure(a.error());
            }
            return Multi.createFrom().failure(Status.UNIMPLEMENTED.withDescription("decoding").asRuntimeException());
        } catch (InvalidRequestException e) {
            return Multi.createFrom().failure(GrpcStatuses.invalidArgument(e));
        } catch (RuntimeException e) {
            LOG.error("decoder request failed", e);
            return Multi.createFrom().failure(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
        }
    }
}
