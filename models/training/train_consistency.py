"""Consistency distillation of the shipped 32x32 decoder into a few-step decoder (Song et al. 2023, "Consistency
Models", algorithm 2; DALL-E 3 distils its decoder the same way; the discrete-timestep form follows Luo et al. 2023,
"Latent Consistency Models").

Teacher: the bundle's decoder (v prediction, exported as epsilon), with classifier-free guidance at --guidance, run as
a deterministic DDIM solver on the grid t_0 = clean, t_k = k * T/N - 1 (k = 1..N; N = 40 puts 999, 749, 499, 249 of
'trailing4' on it). Student: a copy of the teacher's U-Net whose consistency function is the x0 it predicts,
f(x_t, t) = sqrt(abar_t) x_t - sqrt(1 - abar_t) v(x_t, t), clamped to [-1, 1] as the engine does. At t_0 the target
is the teacher's own x0 from t_1, which is the boundary condition f(x, 0) = x without a skip connection. Loss, per
step: pseudo-Huber(f(x_{t_{n+1}}), f_target(x_hat_{t_n})) (Song and Dhariwal 2023, c = 0.00054 sqrt(d)), where
x_{t_{n+1}} ~ q(x | x0) for a training render x0 and x_hat_{t_n} is one guided teacher step from it. The target
network is an EMA of the student (--target-ema); a slower EMA (--ema) is what gets exported.

The student is conditioned like the teacher (CLIP image embedding of the render, caption embedding and tokens) and
distils the guided teacher: it needs no unconditional pass, so its manifest sets guidance_scale 1.

Resumable: re-run the same command; it continues from <out>/last.pt with identical per-step randomness.

  python3 recover_checkpoints.py --bundle ../bundle      # clip/final.pt (conditioning) on a fresh machine
  nice python3 train_consistency.py --threads 2 > $D/logs/consistency.log 2>&1 &
  python3 export_consistency.py                          # -> ../bundle/decoder_consistency
"""
import argparse
import copy
import math
import os
import time

import numpy as np
import torch

from bundle_modules import load_decoder
from common import (TRAIN_DIR, Logger, ShapesData, add_batch_mix_args, add_device_arg, count_params, encode, grid,
                    load_ckpt, save_ckpt, save_png, seed_all, step_generator)
from diffusion import Diffusion, _ex
from train_decoder import SAMPLE_PROMPTS, clip_condition, load_clip

HERE = os.path.dirname(os.path.abspath(__file__))


def solver_grid(T, n):
    """t_1..t_n of the teacher's DDIM solver, ascending: k * T/n - 1 (t_0, the clean end, is index -1 below)."""
    if T % n:
        raise ValueError("the grid needs T divisible by N, got T=%d N=%d" % (T, n))
    return np.array([k * (T // n) - 1 for k in range(1, n + 1)], dtype=np.int64)


def trailing(T, k):
    """The engine's 'trailingK' timesteps, descending: round(T - i T/k) - 1."""
    return [int(round(T - i * T / k)) - 1 for i in range(k)]


class Consistency:
    """The schedule arithmetic of the distillation: x0 and epsilon from a v output, and one DDIM step."""

    def __init__(self, diff):
        self.diff = diff

    def x0(self, v, xt, t):
        d = self.diff
        return (_ex(d.sqrt_ac, t, xt.shape) * xt - _ex(d.sqrt_1mac, t, xt.shape) * v).clamp(-1, 1)

    def ddim(self, x0, xt, t, t_prev):
        """Deterministic DDIM from t to t_prev (t_prev = -1: the clean end, x0 itself), epsilon re-derived from the
        clamped x0 as the engine's DdimStep does."""
        d = self.diff
        eps = (xt - _ex(d.sqrt_ac, t, xt.shape) * x0) / _ex(d.sqrt_1mac, t, xt.shape)
        clean = (t_prev < 0)
        tp = t_prev.clamp(min=0)
        a = torch.where(clean.reshape(-1, 1, 1, 1), torch.ones_like(x0), _ex(d.sqrt_ac, tp, xt.shape))
        s = torch.where(clean.reshape(-1, 1, 1, 1), torch.zeros_like(x0), _ex(d.sqrt_1mac, tp, xt.shape))
        return a * x0 + s * eps


def pseudo_huber(a, b):
    c = 0.00054 * math.sqrt(a[0].numel())
    return (torch.sqrt(((a - b) ** 2).flatten(1).sum(1) + c * c) - c)


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", default=os.path.join(HERE, "..", "bundle"), help="the teacher's bundle")
    ap.add_argument("--data", default=os.path.join(TRAIN_DIR, "data/train-s1-200k"))
    ap.add_argument("--clip", default=os.path.join(TRAIN_DIR, "ckpt/clip/final.pt"))
    ap.add_argument("--out", default=os.path.join(TRAIN_DIR, "ckpt/consistency"))
    ap.add_argument("--steps", type=int, default=1_000_000, help="stop after this many steps (default: until killed)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--grid", type=int, default=40,
                    help="N, the teacher solver's steps over the chain (40 holds trailing1, 2, 4, 5, 8 and 10)")
    ap.add_argument("--guidance", type=float, default=3.0, help="the teacher's classifier-free guidance scale")
    ap.add_argument("--target-ema", type=float, default=0.95)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save-every-s", type=float, default=300)
    ap.add_argument("--sample-every", type=int, default=250)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N training scenes (smoke tests)")
    add_batch_mix_args(ap)
    add_device_arg(ap)
    return ap


def teacher_net(bundle, device):
    wrapped = load_decoder(bundle)
    if not hasattr(wrapped, "model"):
        raise SystemExit("the teacher must be a v-prediction decoder (exported inside EpsilonOutput)")
    net = wrapped.model.to(device).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def step_loss(student, target, teacher, clip, cm, grid_t, data, g, args, device):
    x, ids, _ = data.batch(g, args.batch, args.style_weights, args.two_object_fraction)
    b = x.shape[0]
    n = torch.randint(0, len(grid_t), (b,), generator=g)  # student at t_{n+1} = grid_t[n], target at t_n
    noise = torch.randn(x.shape, generator=g)
    x, ids, n, noise = (v.to(device) for v in (x, ids, n, noise))
    gt = torch.as_tensor(grid_t, device=device)
    t = gt[n]
    t_prev = torch.where(n > 0, gt[(n - 1).clamp(min=0)], torch.full_like(n, -1))
    img, txt, hid = clip_condition(clip, x, ids)
    _, utxt, uhid = clip_condition(clip, None, torch.tensor([encode("")] * b, device=device))
    xt = cm.diff.q_sample(x, t, noise)
    c = x.shape[1]
    with torch.no_grad():
        both = teacher(torch.cat([xt, xt]), torch.cat([t, t]), torch.cat([img, torch.zeros_like(img)]),
                       torch.cat([txt, utxt]), torch.cat([hid, uhid]))[:, :c]
        v = both[b:] + args.guidance * (both[:b] - both[b:])
        x_prev = cm.ddim(cm.x0(v, xt, t), xt, t, t_prev)
        clean = (t_prev < 0).reshape(-1, 1, 1, 1)
        tp = t_prev.clamp(min=0)
        aim = cm.x0(target(x_prev, tp, img, txt, hid)[:, :c], x_prev, tp)
        aim = torch.where(clean, x_prev, aim)
    pred = cm.x0(student(xt, t, img, txt, hid)[:, :c], xt, t)
    return pseudo_huber(pred, aim), t


@torch.no_grad()
def consistency_samples(net, clip, cm, prompts, timesteps, device, seed=1234):
    """Multistep consistency sampling (Song et al. algorithm 1) at the given descending timesteps, text-only
    conditioning (image embedding zeros would be unconditional; here the render's embedding is not at hand, so the
    fixed prompts are conditioned through the text as the decoder trainer's grid does)."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.tensor([encode(p) for p in prompts], device=device)
    _, txt, hid = clip_condition(clip, None, ids)
    img = torch.zeros(len(prompts), txt.shape[1], device=device)
    x = torch.randn((len(prompts), 3, 32, 32), generator=g).to(device)
    for i, t in enumerate(timesteps):
        tt = torch.full((len(prompts),), int(t), dtype=torch.long, device=device)
        x0 = cm.x0(net(x, tt, img, txt, hid)[:, :3], x, tt)
        if i + 1 < len(timesteps):
            tn = torch.full_like(tt, int(timesteps[i + 1]))
            x = cm.diff.q_sample(x0, tn, torch.randn(x.shape, generator=g).to(device))
    return x0


def main(argv=None):
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    device = torch.device(args.device)
    os.makedirs(os.path.join(args.out, "samples"), exist_ok=True)
    log = Logger(os.path.join(args.out, "metrics.jsonl"))
    clip = load_clip(args.clip, device)
    data = ShapesData(args.data, 32, args.limit)
    diff = Diffusion.cosine(1000)
    cm = Consistency(diff)
    grid_t = solver_grid(diff.T, args.grid)
    teacher = teacher_net(args.bundle, device)
    student = copy.deepcopy(teacher).train()
    for p in student.parameters():
        p.requires_grad_(True)
    target = copy.deepcopy(teacher).eval()
    ema = copy.deepcopy(teacher).eval()
    opt = torch.optim.AdamW(student.parameters(), lr=args.lr, weight_decay=0.0)
    ck_path = os.path.join(args.out, "last.pt")
    ck = load_ckpt(ck_path)
    step = 0
    if ck is not None:
        student.load_state_dict(ck["model"])
        target.load_state_dict(ck["target"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        print("resumed consistency distillation at step", step, flush=True)
    log.log(event="start", step=step, params=count_params(student), config=teacher.config, args=vars(args))

    def checkpoint():
        save_ckpt(ck_path, {"model": student.state_dict(), "target": target.state_dict(), "ema": ema.state_dict(),
                            "opt": opt.state_dict(), "step": step, "config": teacher.config, "prediction": "v",
                            "grid": args.grid, "guidance": args.guidance, "args": vars(args)})

    last_save = time.time()
    t0 = time.time()
    acc = {"loss": 0.0, "n": 0}
    while step < args.steps:
        g = step_generator(args.seed, step)
        lr = args.lr * min(1.0, (step + 1) / args.warmup)
        for pg in opt.param_groups:
            pg["lr"] = lr
        loss, _ = step_loss(student, target, teacher, clip, cm, grid_t, data, g, args, device)
        loss = loss.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        step += 1
        with torch.no_grad():
            for pt, pe, pm in zip(target.parameters(), ema.parameters(), student.parameters()):
                pt.mul_(args.target_ema).add_(pm.detach(), alpha=1 - args.target_ema)
                pe.mul_(args.ema).add_(pm.detach(), alpha=1 - args.ema)
        acc["loss"] += loss.item()
        acc["n"] += 1
        if step % 10 == 0:
            k = acc["n"]
            log.log(step=step, loss=round(acc["loss"] / k, 5), grad_norm=round(float(gn), 3), lr=lr,
                    s_per_step=round((time.time() - t0) / k, 3))
            t0, acc = time.time(), {"loss": 0.0, "n": 0}
        if time.time() - last_save > args.save_every_s:
            checkpoint()
            last_save = time.time()
        if step % args.sample_every == 0:
            ts = time.time()
            rows = [consistency_samples(ema, clip, cm, SAMPLE_PROMPTS, trailing(diff.T, k), device) for k in (1, 2, 4)]
            u8 = ((torch.cat(rows).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
            save_png(os.path.join(args.out, "samples", "step_%07d.png" % step),
                     np.kron(grid(u8, len(SAMPLE_PROMPTS)), np.ones((4, 4, 1), dtype=np.uint8)))
            log.log(event="samples", step=step, seconds=round(time.time() - ts, 1))
            t0 += time.time() - ts
    checkpoint()
    log.log(event="done", step=step)


if __name__ == "__main__":
    main()
