package io.unclip.captioner;

import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.unclip.api.v1.CaptionImageRequest;
import io.unclip.api.v1.CaptionToken;
import io.unclip.api.v1.CaptionerService;
import io.unclip.api.v1.ImageRef;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.stage.Caption;
import io.unclip.engine.stage.CaptionerStage;
import io.unclip.engine.stage.RunContext;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.StageCalls;
import io.unclip.service.codec.UploadedImages;
import io.unclip.service.stage.StageModel;
import io.unclip.service.validate.Checks;
import jakarta.inject.Inject;

/**
 * gRPC adapter of the captioner: validate, decode the PNG (its size read from the header first),
 * caption it on a model thread, streaming each token as it is decoded and the whole caption last.
 * The gateway's public Caption calls this.
 */
@GrpcService
public class CaptionerGrpcService implements CaptionerService {
    private final CaptionRequestValidator validator = new CaptionRequestValidator();
    private final PngCodec png = PngCodec.withDefaultLimits();

    @Inject
    StageModel model;

    @Inject
    StageCalls calls;

    @Inject
    LoadedCaptioner captioner;

    @Override
    public Multi<CaptionToken> caption(CaptionImageRequest request) {
        try {
            CaptionRequestValidator.Valid valid = validator.validate(request);
            model.require();
            return calls.<CaptionToken>stream((emit, cancelled) -> {
                CaptionerStage c = captioner.get();
                if (request.getImage().getSourceCase() != ImageRef.SourceCase.PNG) {
                    throw Checks.invalid("image.uri", "this service reads inline PNGs only");
                }
                Tensor image = UploadedImages.decode("image.png", request.getImage().getPng(), png).pixels();
                String style = LoadedCaptioner.style(c, valid.style());
                int budget = valid.maxTokens() == 0 ? 0 : Math.min(valid.maxTokens(), c.maxTokens());
                Caption caption = c.caption(image, style, budget, t -> emit.accept(CaptionToken.newBuilder()
                        .setText(t.text()).setIndex(t.index()).setLogprob(t.logprob()).build()),
                        new RunContext(null, cancelled, 0)).get(0);
                emit.accept(CaptionToken.newBuilder().setLast(true).setIndex(caption.tokenIds().length)
                        .setCaption(caption.text()).build());
            }, false);
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(StageCalls.status(e));
        }
    }
}
