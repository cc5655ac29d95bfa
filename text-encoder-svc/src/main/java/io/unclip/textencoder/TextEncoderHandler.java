package io.unclip.textencoder;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GenerationParams;
import io.unclip.api.v1.StageInputs;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.stage.SamplerSettings;
import io.unclip.engine.stage.TextConditioning;
import io.unclip.engine.stage.TextEncoderStage;
import io.unclip.service.CascadePlan;
import io.unclip.service.Lazy;
import io.unclip.service.StageModel;
import io.unclip.service.WorkerRuntime;
import io.unclip.service.kafka.Outcome;
import io.unclip.service.kafka.StageHandler;
import io.unclip.service.kafka.TaskContext;
import io.unclip.service.stage.Generation;
import io.unclip.service.stage.StageCodec;

/**
 * The text encoder's Kafka work, the first stage of a job: checks what only the bundle can check
 * (vocabulary, size, every stage's sampler overrides against its manifest) so a bad job fails
 * before any diffusion runs, resolves the output size, encodes the prompt and the empty prompt
 * (guidance's unconditional text), and queues the prior's task.
 */
@ApplicationScoped
public class TextEncoderHandler implements StageHandler {
    @Inject
    StageModel model;

    @Inject
    WorkerRuntime runtime;

    private final Lazy<TextEncoderStage> stage = new Lazy<>(() -> new TextEncoderStage(model.require().stages().get(0)));

    @Override
    public StageName stage() {
        return StageName.TEXT_ENCODER;
    }

    TextEncoderStage encoder() {
        return stage.get();
    }

    @Override
    public Outcome handle(StageTask task, TaskContext ctx) {
        StageModel.Loaded loaded = model.require();
        TextEncoderStage te = encoder();
        GenerateRequest g = task.getRequest().getGenerate();
        te.checkPrompt("prompt", g.getPrompt());
        CascadePlan plan = loaded.plan();
        int size = plan.resolveSize(g.getSize());
        preflight(loaded, plan.upsamplerSteps(size), g);

        Generation.Recorder rec = new Generation.Recorder(ctx);
        TextConditioning cond = te.encode(List.of(g.getPrompt()), rec.context());
        TextConditioning uncond = te.emptyPrompt();
        StageCodec codec = new StageCodec(runtime.tensors());
        io.unclip.api.v1.StageTimings own = rec.timings(StageName.TEXT_ENCODER);
        StageTask next = task.toBuilder()
                .setStage(StageName.PRIOR)
                .setCascadeStep(0)
                .setAttempt(1)
                .setInputs(StageInputs.newBuilder()
                        .setText(codec.toProto(cond, 0))
                        .setUnconditional(codec.toProto(uncond, 0)))
                .setParams(GenerationParams.newBuilder().setPrompt(g.getPrompt()).setSize(size)
                        .setModelBundle(loaded.bundleId()))
                .addTimings(own)
                .build();
        return Outcome.next(next, own);
    }

    /** Every diffusion stage's overrides against its manifest, as the embedded cascade checks them. */
    static void preflight(StageModel.Loaded loaded, int ups, GenerateRequest g) {
        int u = 0;
        boolean prior = false;
        boolean decoder = false;
        for (String name : loaded.bundle().stages()) {
            StageManifest m = loaded.manifests().get(name);
            if (m == null || m.diffusion().isEmpty()) {
                continue;
            }
            if (m.kind() == StageKind.PRIOR && !prior) {
                prior = true;
                SamplerSettings.resolve("prior", m.diffusion().get(), Generation.prior(g));
            } else if (m.kind() == StageKind.DECODER && !decoder) {
                decoder = true;
                SamplerSettings.resolve("decoder", m.diffusion().get(), Generation.decoder(g));
            } else if (m.kind() == StageKind.UPSAMPLER && u < ups) {
                u++;
                SamplerSettings.resolve("upsampler", m.diffusion().get(), Generation.upsampler(g));
            }
        }
        if (!prior || !decoder) {
            throw new io.unclip.engine.stage.InvalidRequestException("request", "the model bundle has no "
                    + (prior ? "decoder" : "prior") + ", which text-to-image needs");
        }
    }
}
