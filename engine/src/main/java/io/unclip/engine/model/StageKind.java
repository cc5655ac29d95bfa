package io.unclip.engine.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What a stage model does, and therefore which tensor roles the engine feeds and reads.
 * Roles name tensors by purpose so stage code never depends on a model's tensor names.
 */
public enum StageKind {
    TEXT_ENCODER(false,
            Set.of("input_ids"), Set.of("attention_mask"),
            Set.of("text_embeds"), Set.of("last_hidden_state")),
    PRIOR(true,
            Set.of("sample", "timestep"), Set.of("text_embeds", "text_hidden", "text_mask"),
            Set.of("prediction"), Set.of()),
    DECODER(true,
            Set.of("sample", "timestep"), Set.of("image_embeds", "text_hidden", "text_mask", "input_ids", "text_embeds"),
            Set.of("prediction"), Set.of()),
    UPSAMPLER(true,
            Set.of("sample", "timestep"), Set.of("low_res", "image_embeds"),
            Set.of("prediction"), Set.of()),
    CAPTIONER(false,
            Set.of("image", "input_ids"), Set.of("attention_mask"),
            Set.of("logits"), Set.of()),
    /** CLIP-style image tower: image -> image embedding (variations, interpolation). */
    IMAGE_ENCODER(false,
            Set.of("image"), Set.of(),
            Set.of("image_embeds"), Set.of()),
    /**
     * ADM noisy-image classifier for classifier guidance of the decoder: (x_t, t, one-hot labels) ->
     * grad_x log p(labels | x_t, t), the backward pass written into the graph (ONNX has no autograd).
     */
    CLASSIFIER(false,
            Set.of("sample", "timestep", "target"), Set.of(),
            Set.of("gradient"), Set.of("logits"));

    private final boolean diffusion;
    private final Set<String> requiredInputs;
    private final Set<String> optionalInputs;
    private final Set<String> requiredOutputs;
    private final Set<String> optionalOutputs;

    StageKind(boolean diffusion, Set<String> requiredInputs, Set<String> optionalInputs,
              Set<String> requiredOutputs, Set<String> optionalOutputs) {
        this.diffusion = diffusion;
        this.requiredInputs = requiredInputs;
        this.optionalInputs = optionalInputs;
        this.requiredOutputs = requiredOutputs;
        this.optionalOutputs = optionalOutputs;
    }

    /** Manifest spelling: "text_encoder", "prior", "decoder", "upsampler", "captioner", "image_encoder", "classifier". */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<StageKind> fromId(String id) {
        return Arrays.stream(values()).filter(k -> k.id().equals(id)).findFirst();
    }

    /** Whether the stage is a denoising model that needs a "diffusion" section. */
    public boolean isDiffusion() {
        return diffusion;
    }

    /** Input roles every model of this kind must have. */
    public Set<String> requiredInputRoles() {
        return requiredInputs;
    }

    /** Input roles a model of this kind may have. */
    public Set<String> optionalInputRoles() {
        return optionalInputs;
    }

    /** Output roles every model of this kind must have. */
    public Set<String> requiredOutputRoles() {
        return requiredOutputs;
    }

    public Set<String> optionalOutputRoles() {
        return optionalOutputs;
    }

    boolean allowsInputRole(String role) {
        return requiredInputs.contains(role) || optionalInputs.contains(role);
    }

    boolean allowsOutputRole(String role) {
        return requiredOutputs.contains(role) || optionalOutputs.contains(role);
    }
}
