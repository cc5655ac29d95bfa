package io.unclip.engine.model;

import java.util.Map;
import java.util.Optional;

/**
 * The tensor names of diffusers' UnCLIPPipeline modules (as engine/tools/export_diffusers_unclip.py
 * exports them) and the engine role each one is. Roles stay explicit in the manifest (a name can
 * mean different things in different graphs: a bare decoder UNet's {@code encoder_hidden_states}
 * is text_proj's output, not the text encoder's); this table only makes the error for a missing
 * role say which role a known name takes. engine/MANIFEST.md has the same table.
 */
final class DiffusersNames {
    private static final Map<StageKind, Map<String, String>> ROLES = Map.of(
            StageKind.PRIOR, Map.of(
                    "hidden_states", "sample",
                    "proj_embedding", "text_embeds",
                    "encoder_hidden_states", "text_hidden",
                    "attention_mask", "text_mask",
                    "predicted_image_embedding", "prediction"),
            StageKind.DECODER, Map.of(
                    "image_embeddings", "image_embeds",
                    "text_embeddings", "text_embeds",
                    "prompt_embeds", "text_embeds",
                    "text_encoder_hidden_states", "text_hidden",
                    "noise_pred", "prediction"),
            StageKind.UPSAMPLER, Map.of(
                    "noise_pred", "prediction"));

    private static final Map<StageKind, String> MODULE = Map.of(
            StageKind.PRIOR, "PriorTransformer",
            StageKind.DECODER, "the UnCLIP decoder graph (text_proj + UNet2DConditionModel)",
            StageKind.UPSAMPLER, "UNet2DModel (super_res_first / super_res_last)");

    private DiffusersNames() {
    }

    /** The role a diffusers tensor of this name has in a stage of this kind, if the name is known. */
    static Optional<String> role(StageKind kind, String name) {
        return Optional.ofNullable(ROLES.getOrDefault(kind, Map.of()).get(name));
    }

    /** A sentence to append to "role is missing for input 'name'", or empty. */
    static Optional<String> hint(StageKind kind, String name) {
        String textProj = "an output of text_proj (UnCLIPTextProjModel), which the engine does not run: export"
                + " text_proj and the UNet as one graph that takes the CLIP embeddings (engine/MANIFEST.md, Exporting a"
                + " diffusers checkpoint)";
        if (kind == StageKind.DECODER && name.equals("class_labels")) {
            return Optional.of("in diffusers' UnCLIP decoder UNet 'class_labels' is " + textProj);
        }
        if (kind == StageKind.DECODER && name.equals("encoder_hidden_states")) {
            return Optional.of("if it is the text encoder's last_hidden_state its role is 'text_hidden'; in diffusers'"
                    + " UnCLIP decoder UNet it is " + textProj);
        }
        return role(kind, name).map(role -> "in diffusers' " + MODULE.get(kind) + " '" + name + "' is role '"
                + role + "': add \"role\": \"" + role + "\"");
    }
}
