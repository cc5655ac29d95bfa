"""Stage 3: the diffusion prior over standardised CLIP image embeddings (x0 prediction, cosine schedule, T = 1000,
text conditioning replaced by the empty caption 10% of the time for classifier-free guidance).

First run computes the L2-normalised CLIP image embedding of every training image (<out>/image_embeds.npy; copied
from the --init run's directory when that was computed from the same CLIP weights and data) and their
per-dimension mean/std (<out>/embed_norm.json, for the manifest: the prior works on (e - mean) / std).
Resumable: re-run the same command.

  nice -n 19 python3 train_prior.py > /root/unclip-train/logs/prior.log 2>&1 &
"""
import argparse
import copy
import hashlib
import json
import os
import shutil
import time

import numpy as np
import torch
import torch.nn.functional as F

from common import (PAD, TRAIN_DIR, Logger, ShapesData, add_batch_mix_args, add_device_arg, count_params, encode,
                    images_to_float, load_ckpt, save_ckpt, seed_all, step_generator)
from diffusion import Diffusion, _ex
from prior_model import Prior
from train_decoder import load_clip


def embeddings_key(clip_path, data):
    """What image_embeds.npy depends on: the CLIP weights (by content), the dataset and how many scenes."""
    with open(clip_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {"clip_sha256": digest, "data": os.path.abspath(data.root), "count": len(data)}


@torch.no_grad()
def image_embeddings(clip, data, path, key, reuse_from=None, batch=500, device="cpu"):
    """L2-normalised CLIP image embeddings of every training image, cached at path (key in path's .json sidecar).
    A warm start's directory (reuse_from) holding embeddings with the same key is copied instead of recomputed."""
    if os.path.exists(path):
        return np.load(path)
    sidecar = lambda p: os.path.splitext(p)[0] + ".json"
    if reuse_from:
        src = os.path.join(reuse_from, os.path.basename(path))
        if os.path.exists(src) and os.path.exists(sidecar(src)):
            with open(sidecar(src)) as f:
                if json.load(f) == key:
                    print("image embeddings: reusing", src, flush=True)
                    shutil.copyfile(src, path + ".tmp.npy")
                    shutil.copyfile(sidecar(src), sidecar(path))
                    os.replace(path + ".tmp.npy", path)
                    return np.load(path)
    out = np.zeros((len(data), clip.image.head[-1].out_features), dtype=np.float32)
    for s in range(0, len(data), batch):
        x = images_to_float(data.images[s:s + batch]).to(device)
        out[s:s + batch] = F.normalize(clip.image(x), dim=-1).cpu().numpy()
        if s % 20000 == 0:
            print("embedded", s, flush=True)
    np.save(path + ".tmp.npy", out)
    with open(sidecar(path), "w") as f:
        json.dump(key, f)
    os.replace(path + ".tmp.npy", path)
    return out


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(TRAIN_DIR, "data/train-s1-200k"))
    ap.add_argument("--clip", default=os.path.join(TRAIN_DIR, "ckpt/clip/final.pt"))
    ap.add_argument("--out", default=os.path.join(TRAIN_DIR, "ckpt/prior"))
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--p-drop-text", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save-every-s", type=float, default=300)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N training scenes (smoke tests)")
    ap.add_argument("--init", default=None, help="warm start: model and EMA weights from this checkpoint (new run only)")
    add_batch_mix_args(ap)
    add_device_arg(ap)
    return ap


def step_loss(model, clip, diff, data, z_all, g, args, device):
    """One step's x0 mse. Batch, caption dropout, timesteps and noise are drawn from the CPU generator g and then
    moved to device, so every device trains on the same data. z_all: the standardised image embeddings (CPU)."""
    _, ids, idx = data.batch(g, args.batch, args.style_weights, args.two_object_fraction)
    b = ids.shape[0]
    drop = torch.rand(b, generator=g) < args.p_drop_text
    t = torch.randint(0, diff.T, (b,), generator=g)
    z0 = z_all[idx]
    noise = torch.randn(z0.shape, generator=g)
    ids = torch.where(drop[:, None], torch.tensor(encode(""))[None], ids)
    ids, t, z0, noise = (v.to(device) for v in (ids, t, z0, noise))
    with torch.no_grad():
        temb, hid = clip.text(ids)
        temb = F.normalize(temb, dim=-1)
    zt = diff.q_sample(z0, t, noise)
    pred = model(zt, t, temb, hid, (ids != PAD).long())
    return F.mse_loss(pred, z0)


def main(argv=None):
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    log = Logger(os.path.join(args.out, "metrics.jsonl"))
    clip = load_clip(args.clip, device)
    data = ShapesData(args.data, 32, args.limit)
    emb = image_embeddings(clip, data, os.path.join(args.out, "image_embeds.npy"), embeddings_key(args.clip, data),
                           reuse_from=os.path.dirname(args.init) if args.init else None, device=device)
    mean, std = emb.mean(0), emb.std(0) + 1e-6
    with open(os.path.join(args.out, "embed_norm.json"), "w") as f:
        json.dump({"mean": mean.tolist(), "std": std.tolist(),
                   "note": "prior space = (l2_normalised_clip_image_embedding - mean) / std"}, f)
    z_all = torch.from_numpy((emb - mean) / std)
    diff = Diffusion.cosine(1000)
    model = Prior().to(device)
    ema = copy.deepcopy(model).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    ck_path = os.path.join(args.out, "last.pt")
    ck = load_ckpt(ck_path)
    step = 0
    if ck is not None:
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        print("resumed prior at step", step, flush=True)
    elif args.init:
        init = load_ckpt(args.init)
        model.load_state_dict(init["model"])
        ema.load_state_dict(init["ema"])
        print("warm start from", args.init, "step", init["step"], flush=True)
    log.log(event="start", step=step, params=count_params(model), config=model.config, args=vars(args))
    last_save, t0, acc, n = time.time(), time.time(), 0.0, 0
    while step < args.steps:
        g = step_generator(args.seed, step)
        lr = args.lr * min(1.0, (step + 1) / args.warmup)
        for pg in opt.param_groups:
            pg["lr"] = lr
        loss = step_loss(model, clip, diff, data, z_all, g, args, device)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        d = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        acc += loss.item()
        n += 1
        if step % 50 == 0:
            log.log(step=step, loss=round(acc / n, 5), lr=lr, s_per_step=round((time.time() - t0) / n, 3))
            t0, acc, n = time.time(), 0.0, 0
        if time.time() - last_save > args.save_every_s or step == args.steps:
            save_ckpt(ck_path, {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                                "step": step, "config": model.config, "args": vars(args)})
            last_save = time.time()
    log.log(event="done", step=step)


if __name__ == "__main__":
    main()
