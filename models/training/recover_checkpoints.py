"""Rebuilds training checkpoints from a shipped bundle, so training can continue on a machine that has lost
$UNCLIP_TRAIN_DIR (a fresh clone has only models/bundle).

The bundle holds EMA weights, so the recovered checkpoint starts with model = EMA = those weights; the optimiser
state is gone, which is why the stages continue as warm starts (train_decoder.py --init, train_prior.py --init)
with a fresh learning-rate warmup rather than as exact resumes.

  python3 recover_checkpoints.py --bundle models/bundle [--out $UNCLIP_TRAIN_DIR/ckpt]

writes
  clip/final.pt           MiniClip: text tower from text_encoder/, image tower from image_encoder/ (frozen by the
                          later stages; logit_scale is not exported and is set to its initial value)
  decoder_init/last.pt    the decoder (prediction epsilon or v, as exported)
  prior_init/last.pt      the prior
Each forward pass is checked against the stage's reference.json by torch_reference.py --check-only; run that first.
"""
import argparse
import json
import os
import re

import torch

from bundle_modules import load_decoder, load_prior, load_text_encoder, read_manifest
from clip_model import MiniClip
from common import TRAIN_DIR, save_ckpt
from onnx_weights import load_state_dict_from_onnx
from export_extra import ImageEncoderExport


def trained_steps(manifest):
    m = re.search(r"trained (\d+) steps", manifest.get("notes", ""))
    return int(m.group(1)) if m else 0


def recover_clip(bundle):
    text = load_text_encoder(bundle).text
    clip = MiniClip(embed_dim=text.embed_dim, text_width=text.width, text_layers=len(text.blocks))
    clip.text.load_state_dict(text.state_dict())
    image = ImageEncoderExport(clip.image)
    m = read_manifest(bundle, "image_encoder")
    load_state_dict_from_onnx(image, os.path.join(bundle, "image_encoder", m["onnx"]))
    return clip.eval()


def as_ckpt(module, config, step, **extra):
    sd = module.state_dict()
    return dict({"model": sd, "ema": {k: v.clone() for k, v in sd.items()}, "step": step, "config": config,
                 "recovered_from_bundle": True}, **extra)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--out", default=os.path.join(TRAIN_DIR, "ckpt"))
    args = ap.parse_args()

    clip = recover_clip(args.bundle)
    save_ckpt(os.path.join(args.out, "clip", "final.pt"), {"model": clip.state_dict(), "step": 0,
                                                           "recovered_from_bundle": True})
    print("clip -> %s" % os.path.join(args.out, "clip", "final.pt"))

    dec = load_decoder(args.bundle)
    wrapped = hasattr(dec, "model")
    inner = dec.model if wrapped else dec
    step = trained_steps(read_manifest(args.bundle, "decoder"))
    save_ckpt(os.path.join(args.out, "decoder_init", "last.pt"),
              as_ckpt(inner, inner.config, step, prediction="v" if wrapped else "epsilon"))
    print("decoder (%s, step %d) -> decoder_init/last.pt" % ("v" if wrapped else "epsilon", step))

    prior = load_prior(args.bundle)
    step = trained_steps(read_manifest(args.bundle, "prior"))
    save_ckpt(os.path.join(args.out, "prior_init", "last.pt"), as_ckpt(prior, prior.config, step))
    print("prior (step %d) -> prior_init/last.pt" % step)


if __name__ == "__main__":
    main()
