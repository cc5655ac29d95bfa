package io.unclip.service.kafka;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.jboss.logging.Logger;

import com.google.protobuf.ByteString;

import io.opentelemetry.context.Context;

import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.StageFinished;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageProgress;
import io.unclip.api.v1.StageStarted;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.StageTimings;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.validate.Limits;

/**
 * The events of one stage run: started, progress (throttled; previews latest-wins, encoded off
 * the sampler's thread), finished. {@link #progress} is called on the sampler's thread and only
 * swaps a reference; a drain on the publisher's thread sends the latest preview and the latest
 * plain progress, in step order. All of them carry the trace context current where the run's
 * events were created (the task's span), whichever thread sends them.
 */
public final class TaskEvents {
    private static final Logger LOG = Logger.getLogger(TaskEvents.class);

    private record Pending(int step, int total, Tensor preview) {
    }

    private final EventPublisher publisher;
    private final String jobId;
    private final StageName stage;
    private final int cascadeStep;
    private final int attempt;
    private final boolean streamProgress;
    private final Context trace = Context.current();
    private final AtomicReference<Pending> latestProgress = new AtomicReference<>();
    private final AtomicReference<Pending> latestPreview = new AtomicReference<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile boolean closed;
    private long lastOfferNanos = Long.MIN_VALUE / 2; // sampler thread only
    private int lastSentStep; // guarded by this

    TaskEvents(EventPublisher publisher, StageTask task, int attempt) {
        this.publisher = publisher;
        this.jobId = task.getJobId();
        this.stage = task.getStage();
        this.cascadeStep = task.getCascadeStep();
        this.attempt = Math.max(1, attempt);
        this.streamProgress = task.getRequest().getStreamProgress();
    }

    public void started() {
        publisher.publish(jobId, stage, cascadeStep, GenerateEvent.newBuilder().setStageStarted(StageStarted.newBuilder()
                .setStage(stage).setCascadeStep(cascadeStep).setAttempt(attempt)), trace);
    }

    /** A step finished; see {@link TaskContext#progress}. Never blocks. */
    public void progress(int step, int total, Tensor preview) {
        if (!streamProgress || closed) {
            return;
        }
        if (preview != null) {
            latestPreview.set(new Pending(step, total, preview));
        } else {
            long now = System.nanoTime();
            if (step > 1 && step < total && now - lastOfferNanos < publisher.progressIntervalNanos()) {
                return;
            }
            lastOfferNanos = now;
            latestProgress.set(new Pending(step, total, null));
        }
        if (scheduled.compareAndSet(false, true)) {
            publisher.schedule(() -> {
                scheduled.set(false);
                drain();
            });
        }
    }

    private synchronized void drain() {
        if (closed) {
            return;
        }
        Pending pv = latestPreview.getAndSet(null);
        if (pv != null && pv.step() > lastSentStep) {
            StageProgress.Builder p = progress(pv);
            try {
                byte[] png = publisher.png().encode(pv.preview(), 0, java.util.Map.of());
                if (png.length <= Limits.MAX_PREVIEW_BYTES) {
                    p.setPreviewPng(ByteString.copyFrom(png));
                }
            } catch (RuntimeException e) {
                LOG.debugf("job %s: preview not encoded: %s", jobId, e);
            }
            send(p);
            lastSentStep = pv.step();
        }
        Pending pr = latestProgress.getAndSet(null);
        if (pr != null && pr.step() > lastSentStep) {
            send(progress(pr));
            lastSentStep = pr.step();
        }
    }

    private StageProgress.Builder progress(Pending p) {
        return StageProgress.newBuilder().setStage(stage).setCascadeStep(cascadeStep).setStep(p.step())
                .setTotal(p.total()).setImageIndex(0);
    }

    private void send(StageProgress.Builder p) {
        publisher.publish(jobId, stage, cascadeStep, GenerateEvent.newBuilder().setProgress(p), trace);
    }

    /**
     * Sends what progress is pending, then stage_finished; later progress calls are ignored.
     * The worker waits for the returned send before writing the stage's output, so that every
     * event of a stage precedes, on unclip.events, anything that follows from its output.
     */
    public java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> finished(StageTimings timings) {
        drain();
        closed = true;
        return publisher.publish(jobId, stage, cascadeStep, GenerateEvent.newBuilder().setStageFinished(StageFinished.newBuilder()
                .setStage(stage).setCascadeStep(cascadeStep).setTimings(timings)), trace);
    }

    /** Drops pending progress (the run failed or was cancelled). */
    public void close() {
        closed = true;
        latestPreview.set(null);
        latestProgress.set(null);
    }
}
