package io.unclip.captioner;

import io.unclip.api.v1.CaptionStyle;
import io.unclip.engine.stage.CaptionerStage;
import io.unclip.service.Lazy;
import io.unclip.service.StageScheduling;
import io.unclip.service.stage.StageModel;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** The captioner stage over this service's loaded model, shared by the gRPC service and the Kafka worker. */
@ApplicationScoped
public class LoadedCaptioner {
    @Inject
    StageModel model;

    @Inject
    StageScheduling scheduling;

    // the gRPC calls and the Kafka records in flight share one batcher: their token calls go together
    private final Lazy<CaptionerStage> stage = new Lazy<>(() -> new CaptionerStage(model.require().stages().get(0),
            scheduling.scheduling()));

    /** The stage; throws (FAILED_PRECONDITION on gRPC) while the model is not loaded. */
    public CaptionerStage get() {
        return stage.get();
    }

    /** The captioner's style for the API's: its "short" / "descriptive" if it has them, else its default. */
    public static String style(CaptionerStage c, CaptionStyle s) {
        String wanted = s == CaptionStyle.DESCRIPTIVE ? "descriptive" : "short";
        return c.styles().contains(wanted) ? wanted : null;
    }
}
