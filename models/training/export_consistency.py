"""Exports the consistency-distilled decoder (train_consistency.py) as an overlay bundle beside the shipped one:

  <out>/bundle.json         "base": "..": every other stage comes from the bundle it sits in
  <out>/decoder/            decoder.onnx (the EMA student inside EpsilonOutput, the engine's epsilon contract),
                            manifest.json (sampler consistency, respacing trailing4, guidance_scale 1), reference.json

  python3 export_consistency.py [--ckpt $D/ckpt/consistency/last.pt] [--out ../bundle/consistency]

The manifest is the teacher's with its diffusion section changed, so inputs, outputs and conditioning stay the
teacher's word for word.
"""
import argparse
import json
import os

import torch
import torch.nn.functional as F

from common import CONTEXT, TRAIN_DIR, load_ckpt
from diffusion import Diffusion
from export_extra import pattern
from export_onnx import REF_T, export, write_reference
from unet import Decoder, EpsilonOutput

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.join(HERE, "..", "bundle")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(TRAIN_DIR, "ckpt/consistency/last.pt"))
    ap.add_argument("--base", default=BASE, help="the bundle whose decoder was the teacher")
    ap.add_argument("--out", default=os.path.join(BASE, "consistency"))
    ap.add_argument("--weights", choices=["ema", "target", "model"], default="ema")
    ap.add_argument("--notes", default="", help="appended to the manifest notes (e.g. the measured figures)")
    args = ap.parse_args(argv)
    ck = load_ckpt(args.ckpt)
    if ck is None:
        raise SystemExit("no checkpoint at %s: run train_consistency.py first" % args.ckpt)
    teacher = json.load(open(os.path.join(args.base, "decoder", "manifest.json")))
    net = Decoder(**ck["config"])
    net.load_state_dict(ck[args.weights])
    sched = Diffusion.cosine(teacher["diffusion"]["train_timesteps"])
    dec = EpsilonOutput(net, sched.sqrt_ac, sched.sqrt_1mac).eval()

    d = os.path.join(args.out, "decoder")
    os.makedirs(d, exist_ok=True)
    S, E = ck["config"]["size"], teacher["conditioning"]["embedding_dim"]
    W = teacher["conditioning"]["text_hidden_dim"]
    dargs = (torch.randn(2, 3, S, S), torch.tensor([3, 700]), F.normalize(torch.randn(2, E), dim=-1),
             F.normalize(torch.randn(2, E), dim=-1), torch.randn(2, CONTEXT, W))
    names = [t["name"] for t in teacher["inputs"]]
    export(dec, dargs, os.path.join(d, "decoder.onnx"), names, [teacher["outputs"][0]["name"]])
    ref_in = {"sample": ((1, 3, S, S), [0, 3, 5, 7]), "image_embeds": ((1, E), [0, 3]),
              "text_embeds": ((1, E), [0, 5]), "encoder_hidden_states": ((1, CONTEXT, W), [0, 3, 7])}
    with torch.no_grad():
        y = dec(pattern(*ref_in["sample"]), torch.tensor([REF_T]), pattern(*ref_in["image_embeds"]),
                pattern(*ref_in["text_embeds"]), pattern(*ref_in["encoder_hidden_states"]))
    c = S // 2
    inputs = {k: ("pattern", shape, mult) for k, (shape, mult) in ref_in.items()}
    inputs["timestep"] = ("values", (1,), [REF_T])
    write_reference(d, inputs, teacher["outputs"][0]["name"], y,
                    slices=[(0, 0, 8, 0, 8), (1, c - 4, c + 4, c - 4, c + 4), (3, S - 8, S, S - 8, S),
                            (5, 0, 8, S - 8, S)])

    man = dict(teacher)
    man["diffusion"] = dict(teacher["diffusion"], sampler="consistency", respacing="trailing4", eta=0.0,
                            guidance_scale=1.0)
    man["notes"] = ("consistency-distilled from the shipped decoder (train_consistency.py, %d steps, batch %d,"
                    " teacher: DDIM on a %d-step grid with classifier-free guidance %g baked in, so no unconditional"
                    " pass; %s weights); sample with 1 to 4 trailing steps. %s"
                    % (ck["step"], ck["args"]["batch"], ck["grid"], ck["guidance"], args.weights, args.notes)).strip()
    json.dump(man, open(os.path.join(d, "manifest.json"), "w"), indent=1)

    base_bundle = json.load(open(os.path.join(args.base, "bundle.json")))
    bundle = {"name": base_bundle["name"] + "-consistency", "version": base_bundle["version"],
              "description": "the %s bundle with its decoder replaced by a consistency-distilled few-step decoder"
                             " (every other stage is the base's)" % base_bundle["name"],
              "base": os.path.relpath(args.base, args.out), "stages": base_bundle["stages"]}
    json.dump(bundle, open(os.path.join(args.out, "bundle.json"), "w"), indent=1)
    print("wrote", args.out, "from step", ck["step"])


if __name__ == "__main__":
    main()
