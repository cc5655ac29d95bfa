package io.unclip.prior;

import jakarta.inject.Inject;

import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.unclip.api.v1.PriorEvent;
import io.unclip.api.v1.PriorRequest;
import io.unclip.api.v1.PriorService;
import io.unclip.api.v1.StageName;
import io.unclip.api.validate.Checks;
import io.unclip.engine.stage.DiffusionRequest;
import io.unclip.engine.stage.PriorResult;
import io.unclip.engine.stage.PriorStage;
import io.unclip.engine.stage.RunContext;
import io.unclip.engine.stage.StageListener;
import io.unclip.engine.stage.StageProgress;
import io.unclip.engine.stage.StageTimings;
import io.unclip.engine.stage.TextConditioning;
import io.unclip.service.StageCalls;
import io.unclip.service.StageModel;
import io.unclip.service.WorkerRuntime;
import io.unclip.service.stage.StageCodec;

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
                TextConditioning text = codec.toEngine("text", request.getText(), true);
                StageCodec.checkText("text", text, prior.stage().manifest());
                var overrides = StageCodec.overrides("params", request.getParams(), request.hasParams());
                TextConditioning uncond = null;
                if (request.hasUnconditional()) {
                    uncond = codec.toEngine("unconditional", request.getUnconditional(), true);
                } else if (prior.settings(overrides).guided()) {
                    throw Checks.invalid("unconditional", "is required for a guided run (guidance_scale != 1): this"
                            + " service has no text encoder to encode the empty prompt");
                }
                StageTimings[] timings = new StageTimings[1];
                int n = valid.numImages();
                PriorResult pr = prior.sample(text.repeat(0, n), uncond, new DiffusionRequest(request.getSeed(),
                        range(n), overrides), PriorStage.DEFAULT_CANDIDATES, new RunContext(new StageListener() {
                            @Override
                            public void progress(StageProgress e) {
                                emit.accept(PriorEvent.newBuilder().setProgress(io.unclip.api.v1.StageProgress.newBuilder()
                                        .setStage(StageName.PRIOR).setStep(e.step()).setTotal(e.total())).build());
                            }

                            @Override
                            public void stageFinished(StageTimings t) {
                                timings[0] = t;
                            }
                        }, cancelled, 0));
                PriorEvent.Builder last = PriorEvent.newBuilder().setImageEmbeds(codec.toProto(pr.imageEmbeds()));
                if (timings[0] != null) {
                    last.setTimings(StageCodec.timings(timings[0], StageName.PRIOR));
                }
                emit.accept(last.build());
            }, true);
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(StageCalls.status(e));
        }
    }

    static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }
}
