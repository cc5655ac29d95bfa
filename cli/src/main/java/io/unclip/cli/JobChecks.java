package io.unclip.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.CascadePlan;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.kafka.TaskReader;
import io.unclip.service.record.TaskRejectedException;
import io.unclip.service.stage.StageCodec;

/**
 * What {@code unclip submit} checks of a batch job before sending it, so a job the stack would
 * refuse is bad input here. First the Kafka door's own reading of unclip.jobs ({@link TaskReader#jobs()}:
 * JobJson's parsing and the API's limits, one set of rules with the services); then what the
 * services check once a model is at hand, with the embedded cascade's stages: every uploaded image
 * decoded ({@link ImageUploads#check}), and for a generate job its prompt's words against the
 * text encoder's vocabulary, its size against the bundle's size chain and its sampler settings
 * against each stage's schedule. The bundle is opened on the first job that needs it; without one
 * (none found where the embedded commands look) those checks are left to the services.
 */
final class JobChecks implements AutoCloseable {
    private final TaskReader door = TaskReader.jobs();
    private final Supplier<Path> bundle;
    private final RuntimeOptions options;
    private boolean opened;
    private Cascade cascade;

    /**
     * @param bundle  the bundle directory, or null for none (called at most once)
     * @param options how to open it
     */
    JobChecks(Supplier<Path> bundle, RuntimeOptions options) {
        this.bundle = bundle;
        this.options = options;
    }

    /** What is wrong with the job ({@code "field: reason"}), or null when it would be accepted. */
    String problem(String key, String json) {
        JobRequest job;
        try {
            StageTask task = door.read(new ConsumerRecord<>(SubmitCommand.JOBS_TOPIC, 0, 0L, key,
                    json.getBytes(StandardCharsets.UTF_8)));
            job = task.getRequest();
        } catch (TaskRejectedException e) {
            return e.getMessage();
        }
        try {
            switch (job.getRequestCase()) {
                case CAPTION -> ImageUploads.check("image", job.getCaption().getImage());
                case GENERATE -> withModel(job.getGenerate());
                default -> {
                    // JSON jobs are generate or caption jobs
                }
            }
        } catch (InvalidRequestException e) {
            return e.getMessage();
        }
        return null;
    }

    /** The cascade plan's preflight of a text-to-image job, as the embedded cascade and the text encoder run it. */
    private void withModel(GenerateRequest g) {
        Cascade c = cascade();
        if (c == null) {
            return;
        }
        c.textEncoder().ifPresent(t -> t.checkPrompt("prompt", g.getPrompt()));
        c.plan().settings(CascadePlan.Job.GENERATE, g.getSize(), new StageOverrides(
                StageCodec.overrides("prior", g.getPrior(), g.hasPrior()),
                StageCodec.overrides("decoder", g.getDecoder(), g.hasDecoder()),
                StageCodec.overrides("upsampler", g.getUpsampler(), g.hasUpsampler())));
    }

    private Cascade cascade() {
        if (!opened) {
            opened = true;
            Path dir = bundle.get();
            cascade = dir == null ? null : Cascade.open(dir, options);
        }
        return cascade;
    }

    @Override
    public void close() {
        if (cascade != null) {
            cascade.close();
        }
    }
}
