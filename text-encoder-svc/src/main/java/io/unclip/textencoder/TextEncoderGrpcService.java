package io.unclip.textencoder;

import java.util.ArrayList;
import java.util.List;

import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;
import io.unclip.api.v1.EncodeReply;
import io.unclip.api.v1.EncodeRequest;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.TextEncoderService;
import io.unclip.engine.stage.TextConditioning;
import io.unclip.engine.stage.TextEncoderStage;
import io.unclip.service.CallProgress;
import io.unclip.service.StageCalls;
import io.unclip.service.WorkerRuntime;
import io.unclip.service.stage.StageCodec;
import io.unclip.service.stage.StageModel;
import jakarta.inject.Inject;

/**
 * gRPC adapter of the text encoder stage: validate, then encode all prompts in one model call
 * (on a model thread), with the empty prompt's encoding when asked.
 */
@GrpcService
public class TextEncoderGrpcService implements TextEncoderService {
    private final EncodeRequestValidator validator = new EncodeRequestValidator();

    @Inject
    StageModel model;

    @Inject
    TextEncoderHandler stage;

    @Inject
    WorkerRuntime runtime;

    @Inject
    StageCalls calls;

    @Override
    public Uni<EncodeReply> encode(EncodeRequest request) {
        try {
            EncodeRequestValidator.Valid valid = validator.validate(request);
            model.require();
            return calls.<EncodeReply>stream((emit, cancelled) -> {
                TextEncoderStage te = stage.encoder();
                for (int i = 0; i < valid.prompts().size(); i++) {
                    te.checkPrompt("prompts[" + i + "]", valid.prompts().get(i));
                }
                CallProgress progress = new CallProgress(StageName.TEXT_ENCODER, 0, null);
                TextConditioning out = te.encode(valid.prompts(), progress.context(cancelled, 0));
                StageCodec codec = new StageCodec(runtime.tensors());
                List<io.unclip.api.v1.TextConditioning> encodings = new ArrayList<>();
                for (int i = 0; i < out.rows(); i++) {
                    encodings.add(codec.toProto(out, i));
                }
                EncodeReply.Builder reply = EncodeReply.newBuilder().addAllEncodings(encodings);
                if (valid.includeUnconditional()) {
                    reply.setUnconditional(codec.toProto(te.emptyPrompt(), 0));
                }
                if (progress.timings() != null) {
                    reply.setTimings(progress.timings());
                }
                emit.accept(reply.build());
            }, false).toUni();
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(StageCalls.status(e));
        }
    }
}
