"""Trains a 4x diffusion upsampler (stage 128: 32 -> 128; stage 512: 128 -> 512) on random crops.

Data: a shapes-world dataset with images_<low>.npy and images_<high>.npy (every size is an area downsample of the
512 master, so images_<low> IS the area-downsampled high-res image). Per sample the low-res image is degraded
(stage 128: Gaussian blur k3 sigma 0.6 half of the time, DALL-E 2 style; stage 512: blur k5 with random sigma and a
little Gaussian noise), upsampled to the output size with F.interpolate(bilinear, align_corners=False) exactly as
the engine does, and the same random crop is cut from it and from the high-res target.
Half of the crops are the worst-for-bilinear of 4 random candidates (edges carry all the signal; flat areas are
already exact after bilinear). Model: upsampler_model.PrecondUpsampler (EDM-preconditioned residual model whose
output is epsilon for the cosine schedule, T=1000; fixed_small variance), EDM-weighted loss; AdamW, grad clip 1, EMA.
Resumable with identical per-step randomness (step_generator); checkpoints written atomically every few minutes.

  nohup /usr/bin/python3 train_upsampler.py --stage 128 >> /root/unclip-train/logs/upsampler_128.log 2>&1 &
  nohup /usr/bin/python3 train_upsampler.py --stage 512 >> /root/unclip-train/logs/upsampler_512.log 2>&1 &
  # fine-tune the shipped weights (fresh optimiser), e.g. with fewer blurred inputs and more uniform crops:
  train_upsampler.py --stage 512 --init ../bundle --out $D/ckpt/upsampler_512_ft --lr 2e-4 --blur-p 0.3 --edge-p 0.25
"""
import argparse
import copy
import os
import time

import numpy as np
import torch

from common import (TRAIN_DIR, Logger, add_device_arg, count_params, dataset_dir, load_ckpt, save_ckpt, seed_all,
                    step_generator)
from diffusion import Diffusion
from upsampler_model import Upsampler, blur, build_upsampler, upsample_lowres

STAGES = {
    # low, high, crop, batch, model config, degradation
    "128": dict(low=32, high=128, crop=48, batch=16, ch=32, mult=(1, 2, 2), blur_p=0.5, blur_k=3, sigma=(0.6, 0.6),
                noise_p=0.3, noise_max=0.03, seed=21, sigma_data=0.2),
    "512": dict(low=128, high=512, crop=64, batch=8, ch=24, mult=(1, 2, 3), blur_p=0.7, blur_k=5, sigma=(0.3, 1.0),
                noise_p=0.3, noise_max=0.02, seed=22, sigma_data=0.2),
}


class PairData:
    def __init__(self, root, low, high, limit=None):
        root = dataset_dir(root)
        self.low = np.load(os.path.join(root, "images_%d.npy" % low), mmap_mode="r")
        self.high = np.load(os.path.join(root, "images_%d.npy" % high), mmap_mode="r")
        self.n = self.low.shape[0] if limit is None else min(limit, self.low.shape[0])
        self.lsz, self.hsz = low, high


def to_float(u8):
    return torch.from_numpy(np.ascontiguousarray(u8)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def degrade(low, cfg, g):
    b = low.shape[0]
    do_blur = torch.rand(b, generator=g) < cfg["blur_p"]
    lo, hi = cfg["sigma"]
    sig = lo + (hi - lo) * torch.rand(b, generator=g)
    sig = torch.where(do_blur, sig, torch.zeros_like(sig))
    out = blur(low, sig, cfg["blur_k"])
    do_noise = torch.rand(b, generator=g) < cfg["noise_p"]
    ns = cfg["noise_max"] * torch.rand(b, generator=g) * do_noise.float()
    return out + ns[:, None, None, None] * torch.randn(low.shape, generator=g)


def make_batch(data, cfg, g):
    b, crop, H = cfg["batch"], cfg["crop"], cfg["high"]
    idx = torch.randint(0, data.n, (b,), generator=g).numpy()
    low = to_float(data.low[np.sort(idx)])  # sorted: friendlier mmap access; order does not matter
    hi_u8 = data.high[np.sort(idx)]
    low = degrade(low, cfg, g)
    cond_full = upsample_lowres(low, H)
    # 4 candidate crops per sample; for half the samples keep the one where bilinear is worst (edges), else the first
    oy = torch.randint(0, H - crop + 1, (b, 4), generator=g).tolist()
    ox = torch.randint(0, H - crop + 1, (b, 4), generator=g).tolist()
    pick_edge = (torch.rand(b, generator=g) < cfg.get("edge_p", 0.5)).tolist()
    x0s, conds = [], []
    for i in range(b):
        cands = []
        for k in range(4 if pick_edge[i] else 1):
            y0, x0_ = oy[i][k], ox[i][k]
            tgt = to_float(hi_u8[i:i + 1, y0:y0 + crop, x0_:x0_ + crop])[0]
            cnd = cond_full[i, :, y0:y0 + crop, x0_:x0_ + crop]
            cands.append((float((tgt - cnd).abs().sum()), k, tgt, cnd))
        _, _, tgt, cnd = max(cands, key=lambda c: (c[0], -c[1]))
        x0s.append(tgt)
        conds.append(cnd)
    return torch.stack(x0s), torch.stack(conds)


@torch.no_grad()
def ddim_sample(model, low, out_size, steps=10, g=None, diff=None, clip=1.0):
    """The engine's sampler for this stage: DDIM eta 0 over improved-diffusion's single-section respacing `steps`,
    x0 clipped to [-1, 1], fixed_small variance (unused with eta 0). Runs on low's device; g: a CPU generator."""
    diff = diff or Diffusion.cosine(1000)
    sp, tmap = diff.respaced(steps)
    cond = upsample_lowres(low, out_size)
    x = torch.randn((low.shape[0], 3, out_size, out_size), generator=g).to(low.device)
    for i in reversed(range(sp.T)):
        t = torch.full((x.shape[0],), int(tmap[i]), dtype=torch.long, device=low.device)
        eps = model(torch.cat([x, cond], 1), t)
        ac, ac_prev = sp.ac[i], sp.ac_prev[i]
        x0 = (x - np.sqrt(1 - ac) * eps) / np.sqrt(ac)
        if clip is not None:
            x0 = x0.clamp(-clip, clip)
        eps = (x - np.sqrt(ac) * x0) / np.sqrt(1 - ac)
        x = np.sqrt(ac_prev) * x0 + np.sqrt(1 - ac_prev) * eps
    return x


def psnr(a, b):
    """a, b float [-1,1] (B,3,H,W) -> per-image PSNR in dB on the 0..255 scale after 8-bit quantisation."""
    qa = ((a.clamp(-1, 1) + 1) * 127.5).round()
    qb = ((b.clamp(-1, 1) + 1) * 127.5).round()
    mse = ((qa - qb) ** 2).mean(dim=(1, 2, 3)).clamp(min=1e-10)
    return 10 * torch.log10(255.0 ** 2 / mse)


def step_loss(model, diff, data, cfg, g, device):
    """One step's loss. Crops, degradations, timesteps and noise are drawn from the CPU generator g and then moved to
    device, so every device trains on the same data."""
    x0, cond = make_batch(data, cfg, g)
    t = torch.randint(0, diff.T, (x0.shape[0],), generator=g)
    noise = torch.randn(x0.shape, generator=g)
    return model.loss(x0.to(device), cond.to(device), t.to(device), noise.to(device))


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", choices=sorted(STAGES), required=True)
    ap.add_argument("--data", default=os.path.join(TRAIN_DIR, "data/up-s3-3k"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save-every-s", type=float, default=180)
    ap.add_argument("--bench", type=int, default=0, help="time N steps and exit (no checkpoint)")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N scenes (smoke tests)")
    ap.add_argument("--init", default=None, help="start from this bundle's upsampler_<stage> weights (a fine-tune;"
                    " fresh optimiser) when OUT has no checkpoint yet")
    ap.add_argument("--blur-p", type=float, default=None, help="probability of blurring the low-res input"
                    " (default: the stage's)")
    ap.add_argument("--edge-p", type=float, default=None, help="share of crops chosen where bilinear is worst"
                    " (default 0.5); the rest are uniform, so flat areas are learnt too")
    add_device_arg(ap)
    return ap


def main(argv=None):
    args = parser().parse_args(argv)
    cfg = dict(STAGES[args.stage])
    if args.blur_p is not None:
        cfg["blur_p"] = args.blur_p
    if args.edge_p is not None:
        cfg["edge_p"] = args.edge_p
    out = args.out or os.path.join(TRAIN_DIR, "ckpt/upsampler_%s" % args.stage)
    torch.set_num_threads(args.threads)
    seed = cfg["seed"]
    seed_all(seed)
    device = torch.device(args.device)
    data = PairData(args.data, cfg["low"], cfg["high"], args.limit)
    diff = Diffusion.cosine(1000)
    model = build_upsampler(dict(ch=cfg["ch"], mult=cfg["mult"], out_size=cfg["high"], sigma_data=cfg["sigma_data"]))
    model.to(device)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    ck_path = os.path.join(out, "last.pt")
    step = 0
    ck = None if args.bench else load_ckpt(ck_path)
    if ck is not None:
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        print("resumed upsampler_%s at step %d" % (args.stage, step), flush=True)
    elif args.init:
        from bundle_modules import load_upsampler
        init = load_upsampler(args.init, "upsampler_%s" % args.stage)
        if init.config != model.config:
            raise SystemExit("--init %s: upsampler_%s is %s, this stage trains %s" % (args.init, args.stage,
                                                                                       init.config, model.config))
        model.load_state_dict(init.state_dict())
        ema.load_state_dict(init.state_dict())
        print("initialised upsampler_%s from %s" % (args.stage, args.init), flush=True)
    log = Logger(os.path.join(out, "metrics.jsonl")) if not args.bench else None
    if log:
        log.log(event="start", step=step, params=count_params(model), config=model.config, stage_cfg=cfg,
                args=vars(args))
    else:
        print("params", count_params(model), flush=True)

    def save():
        save_ckpt(ck_path, {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                            "step": step, "config": model.config, "stage_cfg": cfg, "args": vars(args)})

    last_save, t0, acc, n = time.time(), time.time(), 0.0, 0
    model.train()
    end = step + args.bench if args.bench else args.steps
    while step < end:
        g = step_generator(seed, step)
        lr = args.lr * min(1.0, (step + 1) / args.warmup)
        for pg in opt.param_groups:
            pg["lr"] = lr
        loss = step_loss(model, diff, data, cfg, g, device)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        d = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        acc += loss.item()
        n += 1
        if args.bench:
            continue
        if step % 25 == 0:
            log.log(step=step, loss=round(acc / n, 5), grad_norm=round(float(gn), 3), lr=lr,
                    s_per_step=round((time.time() - t0) / n, 3))
            t0, acc, n = time.time(), 0.0, 0
        if time.time() - last_save > args.save_every_s:
            ts = time.time()
            save()
            last_save = time.time()
            t0 += time.time() - ts
    if args.bench:
        print("s/step %.3f loss %.4f" % ((time.time() - t0) / args.bench, acc / n), flush=True)
        return
    save()
    log.log(event="done", step=step)


if __name__ == "__main__":
    main()
