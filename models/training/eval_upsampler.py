"""Upsampler quality on held-out renders: PSNR (8-bit) of DDIM samples vs the ground-truth high-res render, against
the bilinear baseline (the model's own conditioning image), plus the fraction of pixels within 8 levels of the
ground truth on every channel ("flat colour exact"). Uses the engine's sampling: bilinear low-res resize,
DDIM eta 0, single-section respacing, x0 clipped to [-1, 1].

  python3 eval_upsampler.py --stage 128 [--n 16] [--steps 10]      # val-s2-2k: clean 32 -> 128, full images
  python3 eval_upsampler.py --stage 512 [--n 4] [--crop 256]       # upval-s4-64: clean 128 -> 512, centre crops
  python3 eval_upsampler.py --stage 512 --bundle ../bundle         # the shipped weights, read from the ONNX file
Writes a PNG strip (bilinear | sample | ground truth) to ckpt/upsampler_<stage>/eval_*.png.
"""
import argparse
import json
import os

import numpy as np
import torch

from common import TRAIN_DIR, load_ckpt, save_png
from train_upsampler import STAGES, ddim_sample, psnr, to_float
from upsampler_model import build_upsampler, upsample_lowres


def within(a, b, tol=8):
    qa = ((a.clamp(-1, 1) + 1) * 127.5).round()
    qb = ((b.clamp(-1, 1) + 1) * 127.5).round()
    return ((qa - qb).abs().amax(1) <= tol).float().mean(dim=(1, 2))


def u8(x):
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", choices=sorted(STAGES), required=True)
    ap.add_argument("--ckpt", default=None)
    ap.add_argument("--bundle", default=None, help="evaluate this bundle's upsampler_<stage> instead of a checkpoint")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--crop", type=int, default=256, help="stage 512: evaluate a centre crop of this size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = STAGES[args.stage]
    if args.bundle:
        from bundle_modules import load_upsampler
        model, ck = load_upsampler(args.bundle, "upsampler_%s" % args.stage), {"step": 0}
    else:
        ck = load_ckpt(args.ckpt or os.path.join(TRAIN_DIR, "ckpt/upsampler_%s/last.pt" % args.stage))
        model = build_upsampler(ck["config"])
        model.load_state_dict(ck["ema"])
        model.eval()
    if args.stage == "128":
        root, n = os.path.join(TRAIN_DIR, "data/val-s2-2k"), args.n or 16
    else:
        root, n = os.path.join(TRAIN_DIR, "data/upval-s4-64"), args.n or 4
    low = to_float(np.load(os.path.join(root, "images_%d.npy" % cfg["low"]), mmap_mode="r")[:n])
    high = to_float(np.load(os.path.join(root, "images_%d.npy" % cfg["high"]), mmap_mode="r")[:n])
    H = cfg["high"]
    g = torch.Generator().manual_seed(args.seed)
    if args.stage == "128":
        base = upsample_lowres(low, H)
        with torch.no_grad():
            out = ddim_sample(model, low, H, args.steps, g)
    else:
        c = args.crop
        o = (H - c) // 2
        cond = upsample_lowres(low, H)[:, :, o:o + c, o:o + c]
        high = high[:, :, o:o + c, o:o + c]
        base = cond
        # DDIM on the crop with the full-image conditioning, as ddim_sample does on a full image
        from diffusion import Diffusion
        diff = Diffusion.cosine(1000)
        sp, tmap = diff.respaced(args.steps)
        x = torch.randn(cond.shape, generator=g)
        with torch.no_grad():
            for i in reversed(range(sp.T)):
                t = torch.full((n,), int(tmap[i]), dtype=torch.long)
                eps = model(torch.cat([x, cond], 1), t)
                ac, acp = sp.ac[i], sp.ac_prev[i]
                x0 = ((x - np.sqrt(1 - ac) * eps) / np.sqrt(ac)).clamp(-1, 1)
                eps = (x - np.sqrt(ac) * x0) / np.sqrt(1 - ac)
                x = np.sqrt(acp) * x0 + np.sqrt(1 - acp) * eps
        out = x
    res = {"stage": args.stage, "step": ck["step"], "weights": args.bundle or "checkpoint", "n": n, "ddim_steps": args.steps,
           "psnr_model": round(float(psnr(out, high).mean()), 2), "psnr_bilinear": round(float(psnr(base, high).mean()), 2),
           "exact8_model": round(float(within(out, high).mean()), 4),
           "exact8_bilinear": round(float(within(base, high).mean()), 4)}
    print(json.dumps(res), flush=True)
    k = min(n, 4)
    strip = np.concatenate([np.concatenate([u8(base[:k])[i], u8(out[:k])[i], u8(high[:k])[i]], 1) for i in range(k)], 0)
    d = os.path.join(TRAIN_DIR, "ckpt/upsampler_%s" % args.stage)
    os.makedirs(d, exist_ok=True)
    save_png(os.path.join(d, "eval_step%07d_ddim%d.png" % (ck["step"], args.steps)), strip)
    with open(os.path.join(d, "eval.jsonl"), "a") as f:
        f.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
