package io.unclip.captioner;

import io.unclip.api.v1.CaptionRequest;
import io.unclip.api.v1.GenerationParams;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.stage.Caption;
import io.unclip.engine.stage.CaptionerStage;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.codec.UploadedImages;
import io.unclip.service.kafka.Outcome;
import io.unclip.service.kafka.StageHandler;
import io.unclip.service.record.Records;
import io.unclip.service.stage.Generation;
import io.unclip.service.stage.StageModel;
import io.unclip.service.stage.TaskContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * The captioner's Kafka work: a caption job (from unclip.jobs, routed to stage.captioner) becomes
 * its result, with the caption and the style used. The image is decoded with the same limits as
 * the gRPC path; each decoded token is a progress step, and a cancel stops it within one token.
 */
@ApplicationScoped
public class CaptionerHandler implements StageHandler {
    private final PngCodec png = PngCodec.withDefaultLimits();

    @Inject
    StageModel model;

    @Inject
    LoadedCaptioner loadedCaptioner;

    @Override
    public StageName stage() {
        return StageName.CAPTIONER;
    }

    @Override
    public Outcome handle(StageTask task, TaskContext ctx) {
        if (!task.getRequest().hasCaption()) {
            throw new InvalidRequestException("request",
                    "the captioner runs caption jobs only, got a " + task.getRequest().getRequestCase() + " job");
        }
        StageModel.Loaded loaded = model.require();
        CaptionerStage captioner = loadedCaptioner.get();
        CaptionRequest r = task.getRequest().getCaption();
        Tensor image = UploadedImages.decode("image", r.getImage(), png).pixels();
        String style = LoadedCaptioner.style(captioner, r.getStyle());
        int budget = r.getMaxTokens() == 0 ? 0 : Math.min(r.getMaxTokens(), captioner.maxTokens());
        Generation.Recorder rec = new Generation.Recorder(ctx); // progress per token; stops within one token
        Caption caption = captioner.caption(image, style, budget, null, rec.context()).get(0);
        io.unclip.api.v1.StageTimings own = rec.timings(StageName.CAPTIONER);
        JobResult result = JobResult.newBuilder()
                .setJobId(task.getJobId())
                .setStatus(JobState.SUCCEEDED)
                .setCaption(caption.text())
                .setCaptionStyle(caption.style() == null ? "" : caption.style())
                .setParams(GenerationParams.newBuilder().setModelBundle(loaded.bundleId()))
                .addAllTimings(task.getTimingsList())
                .addTimings(own)
                .setFinishedAt(Records.now())
                .build();
        return Outcome.done(result, own);
    }
}
