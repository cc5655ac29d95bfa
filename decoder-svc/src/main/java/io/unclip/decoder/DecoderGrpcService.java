package io.unclip.decoder;

import java.util.Map;

import jakarta.inject.Inject;

import com.google.protobuf.ByteString;

import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.unclip.api.v1.DecodeEvent;
import io.unclip.api.v1.DecodeRequest;
import io.unclip.api.v1.DecoderService;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.StageImages;
import io.unclip.api.v1.StageName;
import io.unclip.api.validate.Checks;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.stage.DecoderStage;
import io.unclip.engine.stage.DiffusionOutput;
import io.unclip.engine.stage.DiffusionRequest;
import io.unclip.engine.stage.RunContext;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.engine.stage.StageListener;
import io.unclip.engine.stage.StageProgress;
import io.unclip.engine.stage.StageTimings;
import io.unclip.engine.stage.TextConditioning;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.StageCalls;
import io.unclip.service.StageModel;
import io.unclip.service.WorkerRuntime;
import io.unclip.service.stage.StageCodec;

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
            DecodeRequestValidator.Valid valid = validator.validate(request);
            model.require();
            return calls.<DecodeEvent>stream((emit, cancelled) -> {
                DecoderStage decoder = stage.decoder();
                StageCodec codec = new StageCodec(runtime.tensors());
                int n = valid.batch();
                Tensor embeds = codec.fromProto("image_embeds", request.getImageEmbeds());
                StageCodec.checkEmbeddings("image_embeds", embeds, n, decoder.stage().manifest());
                TextConditioning text = null;
                if (request.hasText()) {
                    text = codec.toEngine("text", request.getText(), true);
                    StageCodec.checkText("text", text, decoder.stage().manifest());
                    text = text.repeat(0, n);
                }
                SamplerOverrides overrides = StageCodec.overrides("params", request.getParams(), request.hasParams());
                TextConditioning uncond = null;
                if (request.hasUnconditional()) {
                    uncond = codec.toEngine("unconditional", request.getUnconditional(), true);
                    StageCodec.checkText("unconditional", uncond, decoder.stage().manifest());
                } else if (decoder.usesText() && (text == null || decoder.settings(overrides).guided())) {
                    throw Checks.invalid("unconditional", "is required (guidance, or no text): this service has no"
                            + " text encoder to encode the empty prompt");
                }
                StageTimings[] timings = new StageTimings[1];
                DiffusionOutput out = decoder.decode(embeds, text, uncond, new DiffusionRequest(request.getSeed(),
                        range(n), overrides), null, new RunContext(listener(emit, timings), cancelled,
                        request.getPreviewInterval()));
                DecodeEvent.Builder last = DecodeEvent.newBuilder().setOutput(images(codec, out.images(),
                        request.getEncodePng()));
                if (timings[0] != null) {
                    last.setTimings(StageCodec.timings(timings[0], StageName.DECODER));
                }
                emit.accept(last.build());
            }, true);
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(StageCalls.status(e));
        }
    }

    private StageListener listener(java.util.function.Consumer<DecodeEvent> emit, StageTimings[] timings) {
        return new StageListener() {
            @Override
            public void progress(StageProgress e) {
                io.unclip.api.v1.StageProgress.Builder p = io.unclip.api.v1.StageProgress.newBuilder()
                        .setStage(StageName.DECODER).setStep(e.step()).setTotal(e.total());
                if (e.preview() != null) {
                    p.setPreviewPng(ByteString.copyFrom(png.encode(e.preview(), 0, Map.of())));
                }
                emit.accept(DecodeEvent.newBuilder().setProgress(p).build());
            }

            @Override
            public void stageFinished(StageTimings t) {
                timings[0] = t;
            }
        };
    }

    StageImages images(StageCodec codec, Tensor images, boolean encodePng) {
        StageImages.Builder b = StageImages.newBuilder().setPixels(codec.toProto(images));
        if (encodePng) {
            for (int i = 0; i < images.dim(0); i++) {
                b.addImages(ImageRef.newBuilder().setPng(ByteString.copyFrom(png.encode(images, i, Map.of())))
                        .setWidth((int) images.dim(3)).setHeight((int) images.dim(2)));
            }
        }
        return b.build();
    }

    static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }
}
