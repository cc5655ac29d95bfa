"""Exports the upsamplers, the captioner and the mini-CLIP image tower into an unclip bundle (engine/MANIFEST.md,
manifest version 1), next to the text_encoder / prior / decoder stages that export_onnx.py writes.

  python3 export_extra.py --out /root/unclip-train/bundle [--stages upsampler_128,upsampler_512,captioner,image_encoder]

ONNX opset 17, dynamic batch axis, int64 timestep, EMA weights. bundle.json is (re)written listing every stage
directory present in the bundle, in cascade order.

Each stage directory also gets `reference.json`: a fixed batch-1 input and the PyTorch output, so a Java test can
check that ONNX Runtime reproduces the model (tolerance 1e-4 absolute). To stay small, inputs are given by a formula
that float32 represents exactly instead of as arrays:

  pattern(shape, a)[i0, i1, ..., ik] = ((sum_j (a_j * i_j)) mod 17) / 8 - 1      (values in {-1, -0.875, ..., 1})

with the per-dimension multipliers `a` written in the file (`input_pattern`); integer inputs (timestep, input_ids)
are given literally. Outputs: the full tensor when small (image_encoder, captioner), otherwise `output_slices`
(listed [c, y0:y1, x0:x1] windows of image 0, row-major) plus `output_sum` and `output_abs_sum` over the whole
tensor (compare these with a relative tolerance of 1e-5).
"""
import argparse
import json
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

from captioner_model import CAP_CONTEXT, CAP_VOCAB, STYLE_TOKENS, Captioner, encode_caption, \
    write_captioner_tokenizer
from clip_model import MiniClip
from common import TRAIN_DIR, load_ckpt
from upsampler_model import build_upsampler

ORDER = ["text_encoder", "prior", "decoder", "upsampler_128", "upsampler_512", "captioner", "image_encoder"]


def tensor(name, type_, shape, role=None):
    d = {"name": name, "type": type_, "shape": shape}
    if role:
        d["role"] = role
    return d


def pattern(shape, mult):
    grids = torch.meshgrid(*[torch.arange(s, dtype=torch.int64) for s in shape], indexing="ij")
    acc = sum(m * g for m, g in zip(mult, grids))
    return ((acc % 17).to(torch.float32) / 8.0) - 1.0


def export(model, args, path, in_names, out_names):
    dyn = {n: {0: "batch"} for n in in_names + out_names}
    torch.onnx.export(model, args, path, opset_version=17, input_names=in_names, output_names=out_names,
                      dynamic_axes=dyn, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    print("wrote", path, "%.2f MB" % (os.path.getsize(path) / 1e6), flush=True)


def rounded(t):
    return [float("%.7g" % v) for v in t.reshape(-1).tolist()]


class ImageEncoderExport(nn.Module):
    """mini-CLIP image tower, L2-normalised: exactly the image_embeds the decoder was trained on
    (train_decoder.clip_condition: F.normalize(clip.image(x)))."""

    def __init__(self, image):
        super().__init__()
        self.image = image

    def forward(self, image):
        return F.normalize(self.image(image), dim=-1)


def load_ema(path, cls):
    ck = load_ckpt(path)
    if ck is None:
        raise SystemExit("no checkpoint at %s" % path)
    m = cls(ck["config"]) if cls is build_upsampler else cls(**ck["config"])
    m.load_state_dict(ck["ema"])
    m.eval()
    return m, ck


def export_upsampler(name, ck_path, out, respacing):
    model, ck = load_ema(ck_path, build_upsampler)
    S, scale = model.config["out_size"], model.config["scale"]
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    x = torch.randn(2, 6, S, S)
    export(model, (x, torch.tensor([3, 700])), os.path.join(d, "upsampler.onnx"), ["sample", "timestep"],
           ["out_sample"])
    sc = ck["stage_cfg"]
    man = {"manifest_version": 1, "kind": "upsampler", "onnx": "upsampler.onnx",
           "inputs": [tensor("sample", "float32", ["batch", 6, S, S]), tensor("timestep", "int64", ["batch"])],
           "outputs": [tensor("out_sample", "float32", ["batch", 3, S, S], "prediction")],
           "diffusion": {"schedule": "cosine", "train_timesteps": 1000, "prediction": "epsilon",
                         "variance": "fixed_small", "clip_range": 1.0, "sampler": "ddim", "respacing": respacing,
                         "eta": 0.0},
           "resolution": {"input": S // scale, "output": S, "scale": scale},
           "lowres_resize": "bilinear",
           "notes": "sample = concat([x_t, bilinear(low_res, %d)]); output epsilon of an EDM-preconditioned residual "
                    "model (upsampler_model.PrecondUpsampler); conv-only U-Net ch %d mult %s, %d params; "
                    "trained %d steps on %dx%d crops, low-res corruption blur p=%.1f sigma %s k%d + noise p=%.1f "
                    "sigma<=%.2f; EMA weights" % (S, model.config["ch"], model.config["mult"],
                                                  sum(p.numel() for p in model.parameters()), ck["step"],
                                                  sc["crop"], sc["crop"], sc["blur_p"], list(sc["sigma"]),
                                                  sc["blur_k"], sc["noise_p"], sc["noise_max"])}
    json.dump(man, open(os.path.join(d, "manifest.json"), "w"), indent=1)
    # reference
    mult = [0, 3, 5, 7]
    inp = pattern((1, 6, S, S), mult)
    t = torch.tensor([500])
    with torch.no_grad():
        y = model(inp, t)
    c = S // 2
    slices = [[0, 0, 8, 0, 8], [1, c - 4, c + 4, c - 4, c + 4], [2, S - 8, S, S - 8, S]]
    ref = {"inputs": {"sample": {"shape": [1, 6, S, S], "input_pattern": mult},
                      "timestep": {"shape": [1], "values": [500]}},
           "output": "out_sample", "output_shape": list(y.shape),
           "output_slices": [{"c": s[0], "y": [s[1], s[2]], "x": [s[3], s[4]],
                              "values": rounded(y[0, s[0], s[1]:s[2], s[3]:s[4]])} for s in slices],
           "output_sum": float(y.double().sum()), "output_abs_sum": float(y.double().abs().sum()),
           "tolerance": 1e-4}
    json.dump(ref, open(os.path.join(d, "reference.json"), "w"))


def export_captioner(ck_path, out):
    model, ck = load_ema(ck_path, Captioner)
    S = model.config["size"]
    V = model.config["vocab"]
    d = os.path.join(out, "captioner")
    os.makedirs(d, exist_ok=True)
    ids = torch.tensor([encode_caption("a red circle", "short"),
                        encode_caption("a small blue square at the top left on a white background", "descriptive")])
    export(model, (torch.randn(2, 3, S, S), ids), os.path.join(d, "captioner.onnx"), ["image", "input_ids"],
           ["logits"])
    write_captioner_tokenizer(os.path.join(d, "tokenizer.json"))
    man = {"manifest_version": 1, "kind": "captioner", "onnx": "captioner.onnx", "tokenizer": "tokenizer.json",
           "inputs": [tensor("image", "float32", ["batch", 3, S, S]),
                      tensor("input_ids", "int64", ["batch", CAP_CONTEXT])],
           "outputs": [tensor("logits", "float32", ["batch", CAP_CONTEXT, V])],
           "resolution": {"input": S},
           "conditioning": {"text_tokens": CAP_CONTEXT},
           "caption_styles": {"short": STYLE_TOKENS["short"], "descriptive": STYLE_TOKENS["descriptive"]},
           "notes": "conv encoder (8x8 image tokens) + 3-layer cross-attention text decoder, %d params, trained %d "
                    "steps (EMA weights); logits[b,i] scores token i+1; [REL] exists in the vocabulary but is "
                    "untrained" % (sum(p.numel() for p in model.parameters()), ck["step"])}
    json.dump(man, open(os.path.join(d, "manifest.json"), "w"), indent=1)
    mult = [0, 3, 5, 7]
    img = pattern((1, 3, S, S), mult)
    rid = torch.tensor([encode_caption("a small red circle at the top left on a white background", "descriptive")])
    with torch.no_grad():
        y = model(img, rid)
    ref = {"inputs": {"image": {"shape": [1, 3, S, S], "input_pattern": mult},
                      "input_ids": {"shape": [1, CAP_CONTEXT], "values": rid[0].tolist()}},
           "output": "logits", "output_shape": list(y.shape), "output_values": rounded(y), "tolerance": 1e-4}
    json.dump(ref, open(os.path.join(d, "reference.json"), "w"))


def export_image_encoder(clip_path, out):
    clip = MiniClip()
    clip.load_state_dict(load_ckpt(clip_path)["model"])
    clip.eval()
    model = ImageEncoderExport(clip.image).eval()
    S, E = 32, clip.text.embed_dim
    d = os.path.join(out, "image_encoder")
    os.makedirs(d, exist_ok=True)
    export(model, (torch.randn(2, 3, S, S),), os.path.join(d, "image_encoder.onnx"), ["image"], ["image_embeds"])
    man = {"manifest_version": 1, "kind": "image_encoder", "onnx": "image_encoder.onnx",
           "inputs": [tensor("image", "float32", ["batch", 3, S, S])],
           "outputs": [tensor("image_embeds", "float32", ["batch", E])],
           "resolution": {"input": S},
           "conditioning": {"embedding_dim": E},
           "notes": "mini-CLIP image tower (ckpt/%s/%s), L2-normalised: the embedding the decoder was "
                    "trained on and the prior's (de-normalised) output space"
                    % (os.path.basename(os.path.dirname(os.path.abspath(clip_path))), os.path.basename(clip_path))}
    json.dump(man, open(os.path.join(d, "manifest.json"), "w"), indent=1)
    mult = [0, 3, 5, 7]
    img = pattern((1, 3, S, S), mult)
    with torch.no_grad():
        y = model(img)
    ref = {"inputs": {"image": {"shape": [1, 3, S, S], "input_pattern": mult}},
           "output": "image_embeds", "output_shape": list(y.shape), "output_values": rounded(y), "tolerance": 1e-4}
    json.dump(ref, open(os.path.join(d, "reference.json"), "w"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(TRAIN_DIR, "bundle"))
    ap.add_argument("--stages", default="upsampler_128,upsampler_512,captioner,image_encoder")
    ap.add_argument("--clip", default=os.path.join(TRAIN_DIR, "ckpt/clip/final.pt"))
    ap.add_argument("--upsampler-128", default=os.path.join(TRAIN_DIR, "ckpt/upsampler_128/last.pt"))
    ap.add_argument("--upsampler-512", default=os.path.join(TRAIN_DIR, "ckpt/upsampler_512/last.pt"))
    ap.add_argument("--captioner", default=os.path.join(TRAIN_DIR, "ckpt/captioner/last.pt"))
    ap.add_argument("--respacing-128", default="10")
    ap.add_argument("--respacing-512", default="10")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    os.makedirs(args.out, exist_ok=True)
    stages = [s for s in args.stages.split(",") if s]
    if "upsampler_128" in stages:
        export_upsampler("upsampler_128", args.upsampler_128, args.out, args.respacing_128)
    if "upsampler_512" in stages:
        export_upsampler("upsampler_512", args.upsampler_512, args.out, args.respacing_512)
    if "captioner" in stages:
        export_captioner(args.captioner, args.out)
    if "image_encoder" in stages:
        export_image_encoder(args.clip, args.out)
    present = [s for s in ORDER if os.path.exists(os.path.join(args.out, s, "manifest.json"))]
    bj = os.path.join(args.out, "bundle.json")
    meta = json.load(open(bj)) if os.path.exists(bj) else {"name": "shapes-demo", "version": "0.1.0"}
    meta["stages"] = present
    meta["description"] = ("Shapes-World demo models: mini-CLIP text encoder, prior, 32x32 decoder, 4x diffusion "
                           "upsamplers 32->128->512, captioner, mini-CLIP image encoder")
    json.dump(meta, open(bj, "w"), indent=1)
    print("bundle", args.out, "stages", present)


if __name__ == "__main__":
    main()
