package io.unclip.upsampler;


import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.UpsampleEvent;
import io.unclip.api.v1.UpsampleRequest;
import io.unclip.api.v1.UpsamplerService;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.stage.DiffusionOutput;
import io.unclip.engine.stage.DiffusionRequest;
import io.unclip.engine.stage.UpsamplerStage;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.CallProgress;
import io.unclip.service.StageCalls;
import io.unclip.service.WorkerRuntime;
import io.unclip.service.codec.UploadedImages;
import io.unclip.service.stage.StageCodec;
import io.unclip.service.stage.StageModel;
import io.unclip.service.validate.Checks;
import jakarta.inject.Inject;

/**
 * gRPC adapter of the upsamplers: one 4x step ({@code cascade_step} picks the model) on a model
 * thread, from exact pixels or a client's PNG, streaming progress (with previews) and the images.
 */
@GrpcService
public class UpsamplerGrpcService implements UpsamplerService {
    private final UpsampleRequestValidator validator = new UpsampleRequestValidator();
    private final PngCodec png = PngCodec.withDefaultLimits();

    @Inject
    StageModel model;

    @Inject
    UpsamplerHandler stage;

    @Inject
    WorkerRuntime runtime;

    @Inject
    StageCalls calls;

    @Override
    public Multi<UpsampleEvent> upsample(UpsampleRequest request) {
        try {
            UpsampleRequestValidator.Valid valid = validator.validate(request);
            model.require();
            return calls.<UpsampleEvent>stream((emit, cancelled) -> {
                int step = request.getCascadeStep();
                UpsamplerStage u = stage.upsampler(step);
                StageCodec codec = new StageCodec(runtime.tensors());
                Tensor low;
                String field;
                if (request.hasPixels()) {
                    low = codec.fromProto("pixels", request.getPixels());
                    field = "pixels";
                } else {
                    if (request.getImage().getSourceCase() != ImageRef.SourceCase.PNG) {
                        throw Checks.invalid("image.uri", "this service reads inline PNGs only");
                    }
                    low = UploadedImages.decode("image.png", request.getImage().getPng(), png).pixels();
                    field = "image";
                }
                if (valid.side() != u.inputSize()) {
                    throw Checks.invalid(field, u.stage().name() + " (cascade step " + step + ") takes " + u.inputSize()
                            + "x" + u.inputSize() + " images, got " + valid.side() + "x" + valid.side());
                }
                if (u.stage().manifest().inputForRole("image_embeds").isPresent()) {
                    throw Checks.invalid("cascade_step", u.stage().name() + " is conditioned on image embeddings, which"
                            + " UpsampleRequest does not carry; use the Kafka pipeline");
                }
                CallProgress progress = new CallProgress(StageName.UPSAMPLER, step,
                        p -> emit.accept(UpsampleEvent.newBuilder().setProgress(p).build()));
                DiffusionOutput out = u.upsample(low, null, new DiffusionRequest(request.getSeed(),
                        StageCodec.range(valid.batch()), StageCodec.overrides("params", request.getParams(),
                                request.hasParams())), null, progress.context(cancelled, request.getPreviewInterval()));
                UpsampleEvent.Builder last = UpsampleEvent.newBuilder()
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
