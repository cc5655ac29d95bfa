package io.unclip.decoder;

import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.unclip.api.v1.DecodeEvent;
import io.unclip.api.v1.DecodeRequest;
import io.unclip.api.v1.DecoderService;
import io.unclip.api.v1.StageName;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.stage.DecoderStage;
import io.unclip.engine.stage.DiffusionOutput;
import io.unclip.engine.stage.DiffusionRequest;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.engine.stage.TextConditioning;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.CallProgress;
import io.unclip.service.StageCalls;
import io.unclip.service.WorkerRuntime;
import io.unclip.service.stage.StageCodec;
import io.unclip.service.stage.StageModel;
import io.unclip.service.validate.Checks;
import jakarta.inject.Inject;

/**
 * gRPC adapter of the decoder: validate, then decode on a model thread, streaming progress (with
 * an x0 preview every preview_interval steps) and the images last.
 */
@GrpcService
public class DecoderGrpcService implements DecoderService {
    private final DecodeRequestValidator validator = new DecodeRequestValidator();
    private final PngCodec png = PngCodec.withDefaultLimits();

    @Inject
    StageModel model;

    @Inject
    DecoderHandler stage;

    @Inject
    WorkerRuntime runtime;

    @Inject
    StageCalls calls;

    @Override
    public Multi<DecodeEvent> decode(DecodeRequest request) {
        try {
            int n = validator.validate(request).batch();
            model.require();
            return calls.<DecodeEvent>stream((emit, cancelled) -> {
                DecoderStage decoder = stage.decoder();
                StageManifest m = decoder.stage().manifest();
                StageCodec codec = new StageCodec(runtime.tensors());
                Tensor embeds = codec.embeddings("image_embeds", request.getImageEmbeds(), n, m);
                TextConditioning text = request.hasText() ? codec.text("text", request.getText(), true, m).repeat(0, n)
                        : null;
                SamplerOverrides overrides = StageCodec.overrides("params", request.getParams(), request.hasParams());
                TextConditioning uncond = null;
                if (request.hasUnconditional()) {
                    uncond = codec.text("unconditional", request.getUnconditional(), true, m);
                } else if (decoder.usesText() && (text == null || decoder.settings(overrides).guided())) {
                    throw Checks.invalid("unconditional", "is required (guidance, or no text): this service has no"
                            + " text encoder to encode the empty prompt");
                }
                CallProgress progress = new CallProgress(StageName.DECODER, 0,
                        p -> emit.accept(DecodeEvent.newBuilder().setProgress(p).build()));
                DiffusionOutput out = decoder.decode(embeds, text, uncond, new DiffusionRequest(request.getSeed(),
                        StageCodec.range(n), overrides), null, progress.context(cancelled, request.getPreviewInterval()));
                DecodeEvent.Builder last = DecodeEvent.newBuilder()
                        .setOutput(codec.images(out.images(), request.getEncodePng(), png));
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
