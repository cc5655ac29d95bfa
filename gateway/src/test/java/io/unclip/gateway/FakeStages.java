package io.unclip.gateway;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.google.protobuf.ByteString;

import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.unclip.api.v1.GeneratedImage;
import io.unclip.api.v1.GenerationParams;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.StageTimings;
import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.kafka.KafkaSettings;
import io.unclip.service.kafka.Outcome;
import io.unclip.service.kafka.StageHandler;
import io.unclip.service.kafka.StageWorker;
import io.unclip.service.kafka.WorkerStack;
import io.unclip.service.record.TaskRejectedException;
import io.unclip.service.stage.TaskContext;

/**
 * Stand-in stage workers on real Kafka: the real StageWorker with trivial stage logic, so the
 * gateway's side can be tested without models. A prompt containing "poison" is rejected by the
 * prior; the decoder and the upsampler send a preview at their second step; the decoder takes {@code decoderStepMillis} per step and stops when cancelled.
 */
final class FakeStages implements AutoCloseable {
    static final int STEPS = 4;

    volatile long decoderStepMillis = 1;
    volatile int decoderStepsRun;
    volatile long decoderStoppedAt;
    private final List<WorkerStack> workers = new ArrayList<>();

    /** Workers whose metrics go to {@code registry} and spans to {@code telemetry} (the gateway's, in tests). */
    FakeStages(String bootstrap, Path results, MeterRegistry registry, OpenTelemetry telemetry) {
        KafkaSettings settings = KafkaSettings.of(bootstrap);
        for (StageName s : List.of(StageName.TEXT_ENCODER, StageName.PRIOR, StageName.DECODER, StageName.UPSAMPLER)) {
            workers.add(WorkerStack.start(settings, StageWorker.Config.of(s, "fake-" + s), new Handler(s), results, 0,
                    registry, Duration.ofMinutes(1), telemetry));
        }
        for (WorkerStack w : workers) {
            try {
                if (!w.worker().awaitAssignment(Duration.ofSeconds(30))) {
                    throw new IllegalStateException("fake worker not assigned");
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private final class Handler implements StageHandler {
        final StageName stage;

        Handler(StageName stage) {
            this.stage = stage;
        }

        @Override
        public StageName stage() {
            return stage;
        }

        @Override
        public Outcome handle(StageTask task, TaskContext ctx) throws Exception {
            if (stage == StageName.PRIOR && task.getRequest().getGenerate().getPrompt().contains("poison")) {
                throw TaskRejectedException.invalid("prompt", "prompt: poisoned", task.getJobId());
            }
            for (int s = 1; s <= STEPS; s++) {
                if (ctx.cancelled()) {
                    if (stage == StageName.DECODER) {
                        decoderStoppedAt = System.nanoTime();
                    }
                    throw new SamplingCancelledException(s - 1, STEPS);
                }
                if (stage == StageName.DECODER) {
                    Thread.sleep(decoderStepMillis);
                    decoderStepsRun++;
                }
                ctx.progress(s, STEPS, (stage == StageName.DECODER || stage == StageName.UPSAMPLER) && s == 2
                        ? Tensor.zeros(1, 3, 8, 8) : null);
            }
            StageTimings t = StageTimings.newBuilder().setStage(stage).setSteps(STEPS).build();
            StageTask.Builder next = task.toBuilder().setAttempt(1).addTimings(t);
            return switch (stage) {
                case TEXT_ENCODER -> Outcome.next(next.setStage(StageName.PRIOR).build(), t);
                case PRIOR -> Outcome.next(next.setStage(StageName.DECODER).build(), t);
                case DECODER -> Outcome.next(next.setStage(StageName.UPSAMPLER).setCascadeStep(0).build(), t);
                default -> {
                    long seed = task.getRequest().hasVariations() ? task.getRequest().getVariations().getSeed()
                            : task.getRequest().getGenerate().getSeed();
                    byte[] png = PngCodec.withDefaultLimits().encode(Tensor.zeros(1, 3, 8, 8), 0, Map.of());
                    yield Outcome.done(JobResult.newBuilder().setJobId(task.getJobId()).setStatus(JobState.SUCCEEDED)
                            .setSeed(seed)
                            .addImages(GeneratedImage.newBuilder().setIndex(0).setSeed(seed).setWidth(8).setHeight(8)
                                    .setImage(ImageRef.newBuilder().setPng(ByteString.copyFrom(png))))
                            .setParams(GenerationParams.newBuilder().setPrompt(task.getRequest().getGenerate().getPrompt()))
                            .addAllTimings(next.getTimingsList())
                            .build(), t);
                }
            };
        }
    }

    @Override
    public void close() {
        workers.forEach(WorkerStack::close);
    }
}
