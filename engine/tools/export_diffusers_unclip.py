#!/usr/bin/python3
"""Exports a diffusers UnCLIPPipeline (Karlo) as an unclip model bundle (engine/MANIFEST.md).

    /usr/bin/python3 engine/tools/export_diffusers_unclip.py --diffusers DIR --out BUNDLE_DIR

DIR is a diffusers pipeline directory (model_index.json, text_encoder/, tokenizer/, prior/,
text_proj/, decoder/, super_res_first/, super_res_last/ and the three schedulers), e.g. a local
copy of kakaobrain/karlo-v1-alpha. Needs torch, onnx and diffusers + transformers.

What was run and what was not: the functions below (graph wrappers, export, manifests) are what
engine/src/test/python/make_karlo_fixtures.py runs on small random stand-ins with diffusers'
call signatures and config fields, and the Java tests load the result. `load_pipeline` and
`main` (the diffusers side) were never run here: diffusers and the Karlo weights are not
available on the build machines. See engine/MANIFEST.md, "Exporting a diffusers checkpoint".

One ONNX graph per sub-model:
  text_encoder/  CLIPTextModelWithProjection: input_ids -> text_embeds, last_hidden_state
  prior/         PriorTransformer (normalization from its clip_mean / clip_std)
  decoder/       UnCLIPTextProjModel and the decoder UNet2DConditionModel as ONE graph, called every
                 step; learned_classifier_free_guidance_embeddings becomes the stage's
                 "unconditional" image embedding (.npy)
  super_res/     super_res_first as "onnx", super_res_last as "last_step_onnx"
"""
import argparse
import json
import os
import shutil

import numpy as np
import torch
from torch import nn

OPSET = 17

# diffusers' UnCLIPPipeline.__call__ defaults
PRIOR_STEPS, DECODER_STEPS, SUPER_RES_STEPS = 25, 25, 7
PRIOR_GUIDANCE, DECODER_GUIDANCE = 4.0, 8.0


class TextEncoderGraph(nn.Module):
    """CLIPTextModelWithProjection called as the pipeline calls it: ids only (no attention mask)."""

    def __init__(self, text_encoder):
        super().__init__()
        self.text_encoder = text_encoder

    def forward(self, input_ids):
        out = self.text_encoder(input_ids)
        return out.text_embeds, out.last_hidden_state


class PriorGraph(nn.Module):
    def __init__(self, prior):
        super().__init__()
        self.prior = prior

    def forward(self, hidden_states, timestep, proj_embedding, encoder_hidden_states, attention_mask):
        return self.prior(hidden_states, timestep=timestep, proj_embedding=proj_embedding,
                          encoder_hidden_states=encoder_hidden_states,
                          attention_mask=attention_mask).predicted_image_embedding


class DecoderGraph(nn.Module):
    """text_proj, then the decoder UNet: the engine feeds CLIP embeddings, not text_proj's outputs.

    The engine lays out classifier-free guidance itself (rows [cond; uncond]) and feeds the
    unconditional rows the learned embedding from the manifest, so text_proj runs without its
    own guidance branch. As in the pipeline, the mask gains `extra_tokens` leading True entries
    for the extra context tokens text_proj puts before the text tokens.
    """

    def __init__(self, text_proj, unet):
        super().__init__()
        self.text_proj = text_proj
        self.unet = unet
        self.extra_tokens = text_proj.clip_extra_context_tokens

    def forward(self, sample, timestep, image_embeddings, text_embeddings, text_encoder_hidden_states, text_mask):
        hidden, additive = self.text_proj(image_embeddings=image_embeddings, prompt_embeds=text_embeddings,
                                          text_encoder_hidden_states=text_encoder_hidden_states,
                                          do_classifier_free_guidance=False)
        # torch.cat rather than F.pad: ONNX Pad has no bool version
        extra = torch.ones(text_mask.shape[0], self.extra_tokens, dtype=torch.bool)
        mask = torch.cat([extra, text_mask], dim=1)
        return self.unet(sample=sample, timestep=timestep, encoder_hidden_states=hidden, class_labels=additive,
                         attention_mask=mask).sample


class SuperResGraph(nn.Module):
    """UNet2DModel (super_res_first or super_res_last); its sample is [x_t, upsampled image]."""

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep):
        return self.unet(sample=sample, timestep=timestep).sample


def export_graph(module, inputs, path, input_names, output_names):
    """Exports with a dynamic batch axis on every tensor, and returns the module's outputs for `inputs`."""
    module.eval()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    dynamic = {n: {0: "batch"} for n in input_names + output_names}
    with torch.no_grad():
        torch.onnx.export(module, inputs, path, opset_version=OPSET, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic, do_constant_folding=True)
        return module(*inputs)


def tensor(name, role, dtype, shape):
    t = {"name": name}
    if role is not None:
        t["role"] = role
    t.update({"type": dtype, "shape": shape})
    return t


def diffusion_section(scheduler_config, steps, guidance=None):
    """An UnCLIPScheduler config as the manifest's diffusion section.

    UnCLIPScheduler's timesteps for n steps, round(i * (T - 1) / (n - 1)), are improved-diffusion's
    single-section respacing "n"; fixed_small_log is the fixed posterior variance (fixed_small).
    """
    c = scheduler_config
    variance = {"fixed_small_log": "fixed_small", "learned_range": "learned_range"}[c.variance_type]
    prediction = {"epsilon": "epsilon", "sample": "x0"}[c.prediction_type]
    section = {
        "schedule": c.beta_schedule,
        "train_timesteps": int(c.num_train_timesteps),
        "prediction": prediction,
        "variance": variance,
        "clip_range": float(c.clip_sample_range) if c.clip_sample else None,
        "sampler": "ddpm",
        "respacing": str(steps),
    }
    if guidance is not None:
        section["guidance_scale"] = guidance
    return section


def write_json(path, value):
    """One field per line; tensors and other nested values each on one line."""
    def field(key, v):
        if isinstance(v, list) and v and isinstance(v[0], dict):
            items = ",\n".join("    " + json.dumps(t) for t in v)
            return f'  "{key}": [\n{items}\n  ]'
        return f'  "{key}": {json.dumps(v)}'
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(field(k, v) for k, v in value.items()) + "\n}\n")


def export_text_encoder(text_encoder, tokenizer_json, pad_token, tokens, out):
    """tokenizer_json: the fast tokenizer's JSON text (CLIP's has no padding section: pad_token fills it)."""
    d = os.path.join(out, "text_encoder")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        f.write(tokenizer_json)
    ids = torch.zeros(2, tokens, dtype=torch.int64)
    embeds, hidden = export_graph(TextEncoderGraph(text_encoder), (ids,), os.path.join(d, "text_encoder.onnx"),
                                  ["input_ids"], ["text_embeds", "last_hidden_state"])
    e, h = embeds.shape[1], hidden.shape[2]
    write_json(os.path.join(d, "manifest.json"), {
        "manifest_version": 1,
        "kind": "text_encoder",
        "onnx": "text_encoder.onnx",
        "tokenizer": "tokenizer.json",
        "pad_token": pad_token,
        "inputs": [tensor("input_ids", None, "int64", ["batch", tokens])],
        "outputs": [tensor("text_embeds", None, "float32", ["batch", e]),
                    tensor("last_hidden_state", None, "float32", ["batch", tokens, h])],
        "conditioning": {"embedding_dim": e, "text_tokens": tokens, "text_hidden_dim": h},
    })
    return e, h


def export_prior(prior, scheduler_config, embed, tokens, hidden, out):
    d = os.path.join(out, "prior")
    os.makedirs(d, exist_ok=True)
    inputs = (torch.zeros(2, embed), torch.tensor([999, 0], dtype=torch.int64), torch.zeros(2, embed),
              torch.zeros(2, tokens, hidden), torch.ones(2, tokens, dtype=torch.bool))
    export_graph(PriorGraph(prior), inputs, os.path.join(d, "prior.onnx"),
                 ["hidden_states", "timestep", "proj_embedding", "encoder_hidden_states", "attention_mask"],
                 ["predicted_image_embedding"])
    write_json(os.path.join(d, "embedding_stats.json"), {
        "mean": [float(v) for v in prior.clip_mean.detach().reshape(-1)],
        "std": [float(v) for v in prior.clip_std.detach().reshape(-1)],
    })
    write_json(os.path.join(d, "manifest.json"), {
        "manifest_version": 1,
        "kind": "prior",
        "onnx": "prior.onnx",
        "inputs": [tensor("hidden_states", "sample", "float32", ["batch", embed]),
                   tensor("timestep", "timestep", "int64", ["batch"]),
                   tensor("proj_embedding", "text_embeds", "float32", ["batch", embed]),
                   tensor("encoder_hidden_states", "text_hidden", "float32", ["batch", tokens, hidden]),
                   tensor("attention_mask", "text_mask", "bool", ["batch", tokens])],
        "outputs": [tensor("predicted_image_embedding", "prediction", "float32", ["batch", embed])],
        "diffusion": diffusion_section(scheduler_config, PRIOR_STEPS, PRIOR_GUIDANCE),
        "normalization": "embedding_stats.json",
        "conditioning": {"embedding_dim": embed, "text_tokens": tokens, "text_hidden_dim": hidden},
    })


def export_decoder(text_proj, unet, scheduler_config, embed, tokens, hidden, out):
    d = os.path.join(out, "decoder")
    os.makedirs(d, exist_ok=True)
    size, cin, cout = unet.config.sample_size, unet.config.in_channels, unet.config.out_channels
    inputs = (torch.zeros(2, cin, size, size), torch.tensor([999, 0], dtype=torch.int64), torch.zeros(2, embed),
              torch.zeros(2, embed), torch.zeros(2, tokens, hidden), torch.ones(2, tokens, dtype=torch.bool))
    export_graph(DecoderGraph(text_proj, unet), inputs, os.path.join(d, "decoder.onnx"),
                 ["sample", "timestep", "image_embeddings", "text_embeddings", "text_encoder_hidden_states",
                  "text_mask"], ["noise_pred"])
    learned = text_proj.learned_classifier_free_guidance_embeddings.detach().numpy().astype("<f4")
    np.save(os.path.join(d, "unconditional_image_embeds.npy"), learned)
    write_json(os.path.join(d, "manifest.json"), {
        "manifest_version": 1,
        "kind": "decoder",
        "onnx": "decoder.onnx",
        "inputs": [tensor("sample", "sample", "float32", ["batch", cin, size, size]),
                   tensor("timestep", "timestep", "int64", ["batch"]),
                   tensor("image_embeddings", "image_embeds", "float32", ["batch", embed]),
                   tensor("text_embeddings", "text_embeds", "float32", ["batch", embed]),
                   tensor("text_encoder_hidden_states", "text_hidden", "float32", ["batch", tokens, hidden]),
                   tensor("text_mask", "text_mask", "bool", ["batch", tokens])],
        "outputs": [tensor("noise_pred", "prediction", "float32", ["batch", cout, size, size])],
        "diffusion": diffusion_section(scheduler_config, DECODER_STEPS, DECODER_GUIDANCE),
        "unconditional": {"image_embeds": "unconditional_image_embeds.npy"},
        "clamp_output": True,
        "resolution": {"output": size},
        "conditioning": {"embedding_dim": embed, "text_tokens": tokens, "text_hidden_dim": hidden},
    })
    return size


def export_super_res(first, last, scheduler_config, low_res, out):
    d = os.path.join(out, "super_res")
    os.makedirs(d, exist_ok=True)
    size, cin, cout = first.config.sample_size, first.config.in_channels, first.config.out_channels
    inputs = (torch.zeros(2, cin, size, size), torch.tensor([999, 0], dtype=torch.int64))
    names = (["sample", "timestep"], ["noise_pred"])
    export_graph(SuperResGraph(first), inputs, os.path.join(d, "super_res_first.onnx"), *names)
    export_graph(SuperResGraph(last), inputs, os.path.join(d, "super_res_last.onnx"), *names)
    write_json(os.path.join(d, "manifest.json"), {
        "manifest_version": 1,
        "kind": "upsampler",
        "onnx": "super_res_first.onnx",
        "last_step_onnx": "super_res_last.onnx",
        "inputs": [tensor("sample", "sample", "float32", ["batch", cin, size, size]),
                   tensor("timestep", "timestep", "int64", ["batch"])],
        "outputs": [tensor("noise_pred", "prediction", "float32", ["batch", cout, size, size])],
        "diffusion": diffusion_section(scheduler_config, SUPER_RES_STEPS),
        "lowres_resize": "bicubic",
        "lowres_antialias": True,
        "clamp_output": True,
        "resolution": {"input": low_res, "output": size, "scale": size // low_res},
    })


def export_bundle(parts, out, name, version, description):
    """parts: text_encoder, tokenizer_json, pad_token, tokens, prior, text_proj, decoder, super_res_first,
    super_res_last and prior_/decoder_/super_res_scheduler (their .config), as UnCLIPPipeline has them."""
    os.makedirs(out, exist_ok=True)
    embed, hidden = export_text_encoder(parts.text_encoder, parts.tokenizer_json, parts.pad_token, parts.tokens, out)
    export_prior(parts.prior, parts.prior_scheduler.config, embed, parts.tokens, hidden, out)
    low_res = export_decoder(parts.text_proj, parts.decoder, parts.decoder_scheduler.config, embed, parts.tokens,
                             hidden, out)
    export_super_res(parts.super_res_first, parts.super_res_last, parts.super_res_scheduler.config, low_res, out)
    write_json(os.path.join(out, "bundle.json"), {
        "name": name,
        "version": version,
        "description": description,
        "stages": ["text_encoder", "prior", "decoder", "super_res"],
    })


def load_pipeline(directory):
    """The diffusers side (not run here): the pipeline's modules, float32 on the CPU."""
    from diffusers import UnCLIPPipeline
    from transformers import CLIPTokenizerFast

    pipe = UnCLIPPipeline.from_pretrained(directory, torch_dtype=torch.float32)
    fast = CLIPTokenizerFast.from_pretrained(os.path.join(directory, "tokenizer"))
    pipe.tokenizer_json = fast.backend_tokenizer.to_str()
    pipe.pad_token = fast.pad_token
    pipe.tokens = fast.model_max_length
    return pipe


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--diffusers", required=True, help="diffusers UnCLIPPipeline directory")
    parser.add_argument("--out", required=True, help="bundle directory to write")
    parser.add_argument("--name", default="karlo")
    parser.add_argument("--version", default="1.0.0-alpha")
    args = parser.parse_args()
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    export_bundle(load_pipeline(args.diffusers), args.out, args.name, args.version,
                  "Karlo unCLIP exported from diffusers")


if __name__ == "__main__":
    main()
