package io.unclip.prior;

import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.unclip.api.v1.PriorEvent;
import io.unclip.api.v1.PriorRequest;
import io.unclip.api.v1.PriorService;
import io.unclip.api.validate.GrpcStatuses;
import io.unclip.api.validate.InvalidRequestException;
import io.unclip.service.StageModel;

/** gRPC adapter of the prior stage: validate, then run the stage (once a model is loaded). */
@GrpcService
public class PriorGrpcService implements PriorService {
    private static final Logger LOG = Logger.getLogger(PriorGrpcService.class);

    private final PriorRequestValidator validator = new PriorRequestValidator();

    @Inject
    StageModel model;

    @Override
    public Multi<PriorEvent> sample(PriorRequest request) {
        try {
            validator.validate(request);
            StageModel.Availability a = model.availability();
            if (!a.loaded()) {
                return Multi.createFrom().failure(a.error());
            }
            return Multi.createFrom().failure(Status.UNIMPLEMENTED.withDescription("prior sampling").asRuntimeException());
        } catch (InvalidRequestException e) {
            return Multi.createFrom().failure(GrpcStatuses.invalidArgument(e));
        } catch (RuntimeException e) {
            LOG.error("prior request failed", e);
            return Multi.createFrom().failure(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
        }
    }
}
