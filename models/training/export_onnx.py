"""Exports the trained stages as an unclip model bundle (engine/MANIFEST.md, manifest version 1): ONNX opset 17,
dynamic batch, int64 timesteps, EMA weights for the diffusion stages.

  python3 export_onnx.py --out /root/unclip-train/bundle [--stages text_encoder,prior,decoder]

Conventions the engine must follow for these models (also written into each manifest's "notes"):
- text_embeds are L2-normalised (done inside the exported text encoder);
- decoder image_embeds are L2-normalised CLIP image embeddings; the unconditional row uses zeros for
  image_embeds and the encoding of the empty caption "" for the text inputs;
- the prior works on (e - mean) / std (embedding_stats.json) and predicts x0; its unconditional row uses the
  empty caption.

Each stage directory also gets `reference.json` (fixed batch-1 input, PyTorch output), in the format defined in the
export_extra.py docstring (float inputs by the exact float32 `pattern` formula, integer inputs literally; small
outputs in full as `output_values`, the decoder's as `output_slices` + `output_sum` / `output_abs_sum`).
The text encoder's reference covers `text_embeds` (the projection of the EOS hidden state, so the whole tower).
"""
import argparse
import json
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

from clip_model import MiniClip
from common import CONTEXT, PAD, TRAIN_DIR, encode, load_ckpt, write_tokenizer
from export_extra import pattern, rounded
from prior_model import Prior
from diffusion import Diffusion
from unet import Decoder, EpsilonOutput


class TextEncoderExport(nn.Module):
    def __init__(self, text):
        super().__init__()
        self.text = text

    def forward(self, input_ids):
        emb, hid = self.text(input_ids)
        return F.normalize(emb, dim=-1), hid


def tensor(name, type_, shape, role=None):
    d = {"name": name, "type": type_, "shape": shape}
    if role:
        d["role"] = role
    return d


def export(model, args, path, in_names, out_names):
    dyn = {n: {0: "batch"} for n in in_names + out_names}
    torch.onnx.export(model, args, path, opset_version=17, input_names=in_names, output_names=out_names,
                      dynamic_axes=dyn, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    with torch.no_grad():
        ref = model(*args)
    return ref


REF_CAPTION = "a small red circle at the top left on a white background"
REF_T = 500


def write_reference(d, inputs, out_name, y, slices=None):
    """reference.json in export_extra's format. inputs: name -> ("pattern", shape, mult) or ("values", shape, list)."""
    ref = {"inputs": {n: ({"shape": list(shape), "input_pattern": list(v)} if kind == "pattern"
                          else {"shape": list(shape), "values": [int(x) for x in v]})
                      for n, (kind, shape, v) in inputs.items()},
           "output": out_name, "output_shape": list(y.shape)}
    if slices is None:
        ref["output_values"] = rounded(y)
    else:
        ref["output_slices"] = [{"c": c, "y": [y0, y1], "x": [x0, x1], "values": rounded(y[0, c, y0:y1, x0:x1])}
                                for c, y0, y1, x0, x1 in slices]
        ref["output_sum"] = float(y.double().sum())
        ref["output_abs_sum"] = float(y.double().abs().sum())
    ref["tolerance"] = 1e-4
    json.dump(ref, open(os.path.join(d, "reference.json"), "w"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(TRAIN_DIR, "bundle"))
    ap.add_argument("--clip", default=os.path.join(TRAIN_DIR, "ckpt/clip/final.pt"))
    ap.add_argument("--prior", default=os.path.join(TRAIN_DIR, "ckpt/prior/last.pt"))
    ap.add_argument("--prior-stats", default=os.path.join(TRAIN_DIR, "ckpt/prior/embed_norm.json"))
    ap.add_argument("--decoder", default=os.path.join(TRAIN_DIR, "ckpt/decoder/last.pt"))
    ap.add_argument("--stages", default="text_encoder,prior,decoder")
    ap.add_argument("--decoder-history", default="",
                    help="how the decoder got here, for its manifest notes (e.g. 'epsilon 2480 steps, then v 3000')")
    args = ap.parse_args()
    torch.set_num_threads(1)
    stages = [s for s in args.stages.split(",") if s]
    os.makedirs(args.out, exist_ok=True)
    clip = MiniClip()
    clip.load_state_dict(load_ckpt(args.clip)["model"])
    clip.eval()
    E, W = clip.text.embed_dim, clip.text.width
    ids = torch.tensor([encode("a red circle"), encode("a small blue square at the top left on a white background")])
    B = ids.shape[0]

    if "text_encoder" in stages:
        d = os.path.join(args.out, "text_encoder")
        os.makedirs(d, exist_ok=True)
        export(TextEncoderExport(clip.text).eval(), (ids,), os.path.join(d, "text_encoder.onnx"), ["input_ids"],
               ["text_embeds", "last_hidden_state"])
        write_tokenizer(os.path.join(d, "tokenizer.json"))
        rid = encode(REF_CAPTION)
        with torch.no_grad():
            y, _ = TextEncoderExport(clip.text).eval()(torch.tensor([rid]))
        write_reference(d, {"input_ids": ("values", (1, CONTEXT), rid)}, "text_embeds", y)
        man = {"manifest_version": 1, "kind": "text_encoder", "onnx": "text_encoder.onnx", "tokenizer": "tokenizer.json",
               "inputs": [tensor("input_ids", "int64", ["batch", CONTEXT])],
               "outputs": [tensor("text_embeds", "float32", ["batch", E]),
                           tensor("last_hidden_state", "float32", ["batch", CONTEXT, W])],
               "conditioning": {"embedding_dim": E, "text_tokens": CONTEXT, "text_hidden_dim": W},
               "notes": "mini-CLIP text tower; text_embeds L2-normalised; causal attention, so padding needs no mask"}
        json.dump(man, open(os.path.join(d, "manifest.json"), "w"), indent=1)

    if "prior" in stages:
        ck = load_ckpt(args.prior)
        pr = Prior(**ck["config"])
        pr.load_state_dict(ck["ema"])
        pr.eval()
        d = os.path.join(args.out, "prior")
        os.makedirs(d, exist_ok=True)
        with torch.no_grad():
            temb, hid = TextEncoderExport(clip.text)(ids)
        pargs = (torch.randn(B, E), torch.tensor([3, 700]), temb, hid, (ids != PAD).long())
        export(pr, pargs, os.path.join(d, "prior.onnx"),
               ["hidden_states", "timestep", "proj_embedding", "encoder_hidden_states", "attention_mask"],
               ["predicted_image_embedding"])
        shutil.copy(args.prior_stats, os.path.join(d, "embedding_stats.json"))
        rid = encode(REF_CAPTION)
        mask = [int(i != PAD) for i in rid]
        pin = {"hidden_states": ("pattern", (1, E), [0, 3]), "proj_embedding": ("pattern", (1, E), [0, 5]),
               "encoder_hidden_states": ("pattern", (1, CONTEXT, W), [0, 3, 7])}
        with torch.no_grad():
            y = pr(pattern((1, E), [0, 3]), torch.tensor([REF_T]), pattern((1, E), [0, 5]),
                   pattern((1, CONTEXT, W), [0, 3, 7]), torch.tensor([mask]))
        write_reference(d, {"hidden_states": pin["hidden_states"], "timestep": ("values", (1,), [REF_T]),
                            "proj_embedding": pin["proj_embedding"],
                            "encoder_hidden_states": pin["encoder_hidden_states"],
                            "attention_mask": ("values", (1, CONTEXT), mask)}, "predicted_image_embedding", y)
        man = {"manifest_version": 1, "kind": "prior", "onnx": "prior.onnx",
               "inputs": [tensor("hidden_states", "float32", ["batch", E], "sample"),
                          tensor("timestep", "int64", ["batch"]),
                          tensor("proj_embedding", "float32", ["batch", E], "text_embeds"),
                          tensor("encoder_hidden_states", "float32", ["batch", CONTEXT, W], "text_hidden"),
                          tensor("attention_mask", "int64", ["batch", CONTEXT], "text_mask")],
               "outputs": [tensor("predicted_image_embedding", "float32", ["batch", E], "prediction")],
               "diffusion": {"schedule": "cosine", "train_timesteps": 1000, "prediction": "x0",
                             "variance": "fixed_small", "clip_range": None, "sampler": "ddpm", "respacing": "25",
                             "eta": 0.0, "guidance_scale": 2.0},
               "normalization": "embedding_stats.json",
               "conditioning": {"embedding_dim": E, "text_tokens": CONTEXT, "text_hidden_dim": W},
               "notes": "works on (l2-normalised CLIP image embedding - mean) / std; unconditional row = empty caption"}
        json.dump(man, open(os.path.join(d, "manifest.json"), "w"), indent=1)

    if "decoder" in stages:
        ck = load_ckpt(args.decoder)
        dec = Decoder(**ck["config"])
        dec.load_state_dict(ck["ema"])
        prediction = ck.get("prediction", "epsilon")
        if prediction == "v":  # the engine's contract is epsilon: convert inside the graph
            sched = Diffusion.cosine(1000)
            dec = EpsilonOutput(dec, sched.sqrt_ac, sched.sqrt_1mac)
        dec.eval()
        d = os.path.join(args.out, "decoder")
        os.makedirs(d, exist_ok=True)
        with torch.no_grad():
            temb, hid = TextEncoderExport(clip.text)(ids)
        S = ck["config"]["size"]
        dargs = (torch.randn(B, 3, S, S), torch.tensor([3, 700]), F.normalize(torch.randn(B, E), dim=-1), temb, hid)
        export(dec, dargs, os.path.join(d, "decoder.onnx"),
               ["sample", "timestep", "image_embeds", "text_embeds", "encoder_hidden_states"], ["out_sample"])
        with torch.no_grad():
            y = dec(pattern((1, 3, S, S), [0, 3, 5, 7]), torch.tensor([REF_T]), pattern((1, E), [0, 3]),
                    pattern((1, E), [0, 5]), pattern((1, CONTEXT, W), [0, 3, 7]))
        c = S // 2
        write_reference(d, {"sample": ("pattern", (1, 3, S, S), [0, 3, 5, 7]), "timestep": ("values", (1,), [REF_T]),
                            "image_embeds": ("pattern", (1, E), [0, 3]), "text_embeds": ("pattern", (1, E), [0, 5]),
                            "encoder_hidden_states": ("pattern", (1, CONTEXT, W), [0, 3, 7])}, "out_sample", y,
                        slices=[(0, 0, 8, 0, 8), (1, c - 4, c + 4, c - 4, c + 4), (3, S - 8, S, S - 8, S),
                                (5, 0, 8, S - 8, S)])
        man = {"manifest_version": 1, "kind": "decoder", "onnx": "decoder.onnx",
               "inputs": [tensor("sample", "float32", ["batch", 3, S, S]),
                          tensor("timestep", "int64", ["batch"]),
                          tensor("image_embeds", "float32", ["batch", E]),
                          tensor("text_embeds", "float32", ["batch", E]),
                          tensor("encoder_hidden_states", "float32", ["batch", CONTEXT, W], "text_hidden")],
               "outputs": [tensor("out_sample", "float32", ["batch", 6, S, S], "prediction")],
               "diffusion": {"schedule": "cosine", "train_timesteps": 1000, "prediction": "epsilon",
                             "variance": "learned_range", "clip_range": 1.0, "sampler": "ddpm", "respacing": "50",
                             "eta": 0.0, "guidance_scale": 3.0},  # re-measured per decoder phase (model card)
               "resolution": {"output": S},
               "conditioning": {"embedding_dim": E, "text_tokens": CONTEXT, "text_hidden_dim": W},
               "notes": "unconditional row: image_embeds = zeros, text = encoding of the empty caption; "
                        "trained %d steps in the last phase (EMA weights)%s, %s prediction exported as epsilon%s"
                        % (ck["step"], " (" + args.decoder_history + ")" if args.decoder_history else "", prediction,
                           "; pixel coordinates and attention positional embeddings" if ck["config"].get("position")
                           else "")}
        json.dump(man, open(os.path.join(d, "manifest.json"), "w"), indent=1)

    # list every stage present, so exporting some stages into an existing bundle keeps the others
    order = ["text_encoder", "prior", "decoder", "upsampler_128", "upsampler_512", "captioner", "image_encoder"]
    present = [s for s in order if os.path.exists(os.path.join(args.out, s, "manifest.json"))]
    bj = os.path.join(args.out, "bundle.json")
    meta = json.load(open(bj)) if os.path.exists(bj) else {"name": "shapes-demo", "version": "0.1.0",
                                                           "description": "Shapes-World demo models"}
    meta["stages"] = present
    json.dump(meta, open(bj, "w"), indent=1)
    print("bundle written to", args.out, "stages exported", stages, "present", present)


if __name__ == "__main__":
    main()
