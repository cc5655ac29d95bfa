package io.unclip.service;

import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import com.google.protobuf.ByteString;

import io.unclip.api.v1.StageName;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.stage.RunContext;
import io.unclip.engine.stage.StageListener;
import io.unclip.engine.stage.StageProgress;
import io.unclip.engine.stage.StageTimings;
import io.unclip.service.stage.StageCodec;

/**
 * A gRPC stage call's listener, the same for every stage service: each step goes out as a {@code StageProgress}
 * message (its preview as PNG when the step has one), and the stage's timings are kept for the call's last event.
 * The Kafka doors' counterpart is {@code Generation.Recorder}.
 */
public final class CallProgress implements StageListener {
    private final StageName stage;
    private final int cascadeStep;
    private final PngCodec png;
    private final Consumer<io.unclip.api.v1.StageProgress> emit;
    private volatile StageTimings finished;

    /** @param emit where each step's message goes; {@code null} for a call that streams no progress */
    public CallProgress(StageName stage, int cascadeStep, Consumer<io.unclip.api.v1.StageProgress> emit) {
        this.stage = stage;
        this.cascadeStep = cascadeStep;
        this.png = PngCodec.withDefaultLimits();
        this.emit = emit;
    }

    /** The engine's run context: this listener, the call's cancellation, a preview every {@code previewInterval} steps. */
    public RunContext context(BooleanSupplier cancelled, int previewInterval) {
        return new RunContext(this, cancelled, previewInterval);
    }

    @Override
    public void progress(StageProgress e) {
        if (emit == null) {
            return;
        }
        io.unclip.api.v1.StageProgress.Builder p = io.unclip.api.v1.StageProgress.newBuilder()
                .setStage(stage).setCascadeStep(cascadeStep).setStep(e.step()).setTotal(e.total());
        if (e.preview() != null) {
            p.setPreviewPng(ByteString.copyFrom(png.encode(e.preview(), 0, Map.of())));
        }
        emit.accept(p.build());
    }

    @Override
    public void stageFinished(StageTimings t) {
        finished = t;
    }

    /** The stage's timings as a message, or {@code null} when the stage did not report any. */
    public io.unclip.api.v1.StageTimings timings() {
        StageTimings t = finished;
        return t == null ? null : StageCodec.timings(t, stage);
    }
}
