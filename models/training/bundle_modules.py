"""Rebuilds the PyTorch modules of a bundle's stages from models/training's own definitions, with the weights of the
bundle's ONNX files (onnx_weights.py). Constructor arguments are read from the initializer shapes and the manifests;
what shapes cannot tell (attention heads, residual blocks per level) takes the training defaults, and a wrong guess
shows up as a mapping error or a failed self-check against the stage's reference.json.
"""
import json
import os
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

from clip_model import TextEncoder
from onnx_weights import initializer_shapes, load_state_dict_from_onnx
from prior_model import Prior
from diffusion import Diffusion
from unet import Decoder, EpsilonOutput
from upsampler_model import build_upsampler


class TextEncoderModule(nn.Module):
    """The exported text tower: (L2-normalised text_embeds, last_hidden_state); parameter names 'text.*'."""

    def __init__(self, text):
        super().__init__()
        self.text = text

    def forward(self, input_ids):
        emb, hid = self.text(input_ids)
        return F.normalize(emb, dim=-1), hid


def read_manifest(bundle, stage):
    with open(os.path.join(bundle, stage, "manifest.json")) as f:
        return json.load(f)


def _blocks(shapes, pattern):
    return sorted({int(m.group(1)) for n in shapes for m in [re.match(pattern, n)] if m})


def _unet_levels(shapes, prefix):
    """(ch, mult, num_res) of a U-Net from its down path: ResBlocks have in_conv, downsamplers are plain convs."""
    ch = shapes[prefix + "inp.weight"][0]
    seq = []
    for i in _blocks(shapes, re.escape(prefix) + r"down\.(\d+)\."):
        if prefix + "down.%d.0.in_conv.weight" % i in shapes:
            seq.append(("res", shapes[prefix + "down.%d.0.in_conv.weight" % i][0]))
        else:
            seq.append(("down", None))
    levels, cur = [], []
    for kind, c in seq:
        if kind == "res":
            cur.append(c)
        else:
            levels.append(cur)
            cur = []
    levels.append(cur)
    num_res = len(levels[0])
    if any(len(level) != num_res for level in levels):
        raise ValueError("%s: uneven residual blocks per level %s" % (prefix, levels))
    return ch, [level[0] // ch for level in levels], num_res


def load_text_encoder(bundle, stage="text_encoder"):
    m = read_manifest(bundle, stage)
    path = os.path.join(bundle, stage, m["onnx"])
    s = initializer_shapes(path)
    context, width = s["text.pos"]
    vocab = s["text.tok.weight"][0]
    layers = len(_blocks(s, r"text\.blocks\.(\d+)\."))
    embed = m["conditioning"]["embedding_dim"]
    module = TextEncoderModule(TextEncoder(width=width, layers=layers, heads=4, embed_dim=embed, context=context,
                                           vocab=vocab))
    return _finish(module, path)


def load_prior(bundle, stage="prior"):
    m = read_manifest(bundle, stage)
    path = os.path.join(bundle, stage, m["onnx"])
    s = initializer_shapes(path)
    n, width = s["pos"]
    embed = s["proj_in.weight"][1]
    layers = len(_blocks(s, r"blocks\.(\d+)\."))
    text_width = m["conditioning"]["text_hidden_dim"]
    module = Prior(embed_dim=embed, text_width=text_width, width=width, layers=layers, heads=4, context=n - 4)
    return _finish(module, path)


def load_decoder(bundle, stage="decoder"):
    """unet.Decoder; a v-prediction decoder is exported inside unet.EpsilonOutput (parameters 'model.*')."""
    m = read_manifest(bundle, stage)
    path = os.path.join(bundle, stage, m["onnx"])
    s = initializer_shapes(path)
    wrapped = "model.inp.weight" in s
    p = "model." if wrapped else ""
    ch, mult, num_res = _unet_levels(s, p)
    in_ch = s[p + "inp.weight"][1]
    ctx_dim = s[p + "ctx_norm.weight"][0]
    size = m["resolution"]["output"]
    attn_res, res = [], size
    for i in _blocks(s, re.escape(p) + r"down\.(\d+)\."):
        if p + "down.%d.1.qkv.weight" % i in s:
            attn_res.append(res)
        if p + "down.%d.0.in_conv.weight" % i not in s:
            res //= 2
    module = Decoder(ch=ch, mult=tuple(mult), num_res=num_res, attn_res=tuple(sorted(set(attn_res), reverse=True)),
                     image_embed_dim=s[p + "image_to_time.weight"][1], text_embed_dim=s[p + "text_to_time.weight"][1],
                     text_width=s[p + "text_norm.weight"][0], ctx_dim=ctx_dim,
                     extra_tokens=s[p + "image_to_tokens.weight"][0] // ctx_dim, in_ch=in_ch, size=size,
                     learn_sigma=s[p + "out.2.weight"][0] == 2 * in_ch, position=p + "coord.weight" in s)
    if wrapped:
        sched = Diffusion.cosine(m["diffusion"]["train_timesteps"])
        module = EpsilonOutput(module, sched.sqrt_ac, sched.sqrt_1mac)
        module.config = module.model.config
    return _finish(module, path)


def load_upsampler(bundle, stage):
    m = read_manifest(bundle, stage)
    path = os.path.join(bundle, stage, m["onnx"])
    s = initializer_shapes(path)
    ch, mult, num_res = _unet_levels(s, "net.")
    res = m["resolution"]
    sd = re.search(r"sigma_data ([0-9.]+)", m.get("notes", ""))
    config = dict(ch=ch, mult=mult, num_res=num_res, in_ch=s["net.inp.weight"][1] // 2, out_size=res["output"],
                  scale=res["scale"], sigma_data=float(sd.group(1)) if sd else 0.2)
    return _finish(build_upsampler(config), path)


def _finish(module, path):
    load_state_dict_from_onnx(module, path)
    return module.eval()
