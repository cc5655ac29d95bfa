package io.unclip.prior;

import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.unclip.api.v1.PriorEvent;
import io.unclip.api.v1.PriorRequest;
import io.unclip.api.v1.PriorService;
import io.unclip.api.v1.StageName;
import io.unclip.engine.stage.DiffusionRequest;
import io.unclip.engine.stage.PriorResult;
import io.unclip.engine.stage.PriorStage;
import io.unclip.engine.stage.TextConditioning;
import io.unclip.service.CallProgress;
import io.unclip.service.StageCalls;
import io.unclip.service.WorkerRuntime;
import io.unclip.service.stage.StageCodec;
import io.unclip.service.stage.StageModel;
import io.unclip.service.validate.Checks;
import jakarta.inject.Inject;

/**
 * gRPC adapter of the prior: validate, then sample on a model thread, streaming a progress event
 * per step and the image embeddings last. The unconditional text is required when the run is
 * guided (this service has no text encoder of its own to encode the empty prompt).
 */
@GrpcService
public class PriorGrpcService implements PriorService {
    private final PriorRequestValidator validator = new PriorRequestValidator();

    @Inject
    StageModel model;

    @Inject
    PriorHandler stage;

    @Inject
    WorkerRuntime runtime;

    @Inject
    StageCalls calls;

    @Override
    public Multi<PriorEvent> sample(PriorRequest request) {
        try {
            PriorRequestValidator.Valid valid = validator.validate(request);
            model.require();
            return calls.<PriorEvent>stream((emit, cancelled) -> {
                PriorStage prior = stage.prior();
                StageCodec codec = new StageCodec(runtime.tensors());
                TextConditioning text = codec.text("text", request.getText(), true, prior.stage().manifest());
                var overrides = StageCodec.overrides("params", request.getParams(), request.hasParams());
                TextConditioning uncond = null;
                if (request.hasUnconditional()) {
                    uncond = codec.text("unconditional", request.getUnconditional(), true, prior.stage().manifest());
                } else if (prior.settings(overrides).guided()) {
                    throw Checks.invalid("unconditional", "is required for a guided run (guidance_scale != 1): this"
                            + " service has no text encoder to encode the empty prompt");
                }
                int n = valid.numImages();
                CallProgress progress = new CallProgress(StageName.PRIOR, 0,
                        p -> emit.accept(PriorEvent.newBuilder().setProgress(p).build()));
                PriorResult pr = prior.sample(text.repeat(0, n), uncond, new DiffusionRequest(request.getSeed(),
                        StageCodec.range(n), overrides), progress.context(cancelled, 0));
                PriorEvent.Builder last = PriorEvent.newBuilder().setImageEmbeds(codec.toProto(pr.imageEmbeds()));
                if (progress.timings() != null) {
                    last.setTimings(progress.timings());
                }
                emit.accept(last.build());
            }, true);
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(StageCalls.status(e));
        }
    }
}
