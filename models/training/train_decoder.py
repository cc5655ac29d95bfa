"""Stage 2: the 32x32 decoder (unCLIP), conditioned on the frozen mini-CLIP image embedding and text tokens.

Cosine schedule, T = 1000, learned-range variance, IDDPM hybrid loss (L_simple + 0.001 L_vlb), classifier-free
dropout (image embedding -> zeros 10%, caption -> empty caption 50%), weight EMA, AdamW lr 1e-3 with warmup.
Runs on one CPU thread by default (torch.set_num_threads(1)) so the machine's other core stays free.
Resumable: re-run the same command; it continues from <out>/last.pt with identical per-step randomness.

  nohup python3 train_decoder.py > /root/unclip-train/logs/decoder.log 2>&1 &
"""
import argparse
import copy
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from clip_model import MiniClip
from common import (TRAIN_DIR, Logger, ShapesData, add_batch_mix_args, add_device_arg, count_params, dataset_dir,
                    encode, grid, images_to_float, load_ckpt, save_ckpt, save_png, seed_all, step_generator)
from diffusion import Diffusion
from unet import Decoder, EpsilonOutput

SAMPLE_PROMPTS = [
    "a small red circle at the top left on a white background",
    "a large blue square at the center on a black background",
    "a small green triangle at the bottom right on a gray background",
    "a large yellow diamond at the left on a white background",
    "a small purple circle at the top and a small orange square at the bottom, on a black background",
    "a cyan triangle above a pink diamond",
    "a red square to the left of a green circle",
    "a large pink circle at the right on a gray background",
]


def load_clip(path, device="cpu"):
    ck = load_ckpt(path)
    if ck is None:
        raise SystemExit("no CLIP checkpoint at %s: train CLIP first" % path)
    clip = MiniClip()
    clip.load_state_dict(ck["model"])
    clip.eval().to(device)
    for p in clip.parameters():
        p.requires_grad_(False)
    return clip


@torch.no_grad()
def clip_condition(clip, x, ids):
    """-> image_embeds (L2-normalised), text_embeds (L2-normalised), text hidden states."""
    img = F.normalize(clip.image(x), dim=-1) if x is not None else None
    temb, hid = clip.text(ids)
    return img, F.normalize(temb, dim=-1), hid


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(TRAIN_DIR, "data/train-s1-200k"))
    ap.add_argument("--val", default=os.path.join(TRAIN_DIR, "data/val-s2-2k"))
    ap.add_argument("--clip", default=os.path.join(TRAIN_DIR, "ckpt/clip/final.pt"))
    ap.add_argument("--out", default=os.path.join(TRAIN_DIR, "ckpt/decoder"))
    ap.add_argument("--steps", type=int, default=1_000_000, help="stop after this many steps (default: run until killed)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--ema", type=float, default=0.9995)
    ap.add_argument("--p-drop-image", type=float, default=0.1)
    ap.add_argument("--p-drop-text", type=float, default=0.5)
    ap.add_argument("--ch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--prediction", choices=["epsilon", "v"], default=None,
                    help="what the U-Net predicts (default v for a new run, the checkpoint's on resume; "
                         "see Diffusion.hybrid_loss; exported as epsilon either way)")
    ap.add_argument("--position", action="store_true",
                    help="pixel coordinates and attention positional embeddings (unet.Decoder position=True); a warm"
                         " start from a model without them adds them zero-initialised")
    ap.add_argument("--init", default=None, help="warm start: model and EMA weights from this checkpoint (new run only)")
    ap.add_argument("--save-every-s", type=float, default=300)
    ap.add_argument("--sample-every", type=int, default=2500)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N training scenes (smoke tests)")
    add_batch_mix_args(ap)
    add_device_arg(ap)
    return ap


def step_loss(model, clip, diff, data, g, args, device):
    """One step's hybrid loss per sample (loss, mse, vb). Batch, caption/image dropout, timesteps and noise are drawn
    from the CPU generator g and then moved to device, so every device trains on the same data."""
    x, ids, _ = data.batch(g, args.batch, args.style_weights, args.two_object_fraction)
    b = x.shape[0]
    drop_txt = torch.rand(b, generator=g) < args.p_drop_text
    drop_img = torch.rand(b, generator=g) < args.p_drop_image
    t = torch.randint(0, diff.T, (b,), generator=g)
    noise = torch.randn(x.shape, generator=g)
    ids = torch.where(drop_txt[:, None], torch.tensor(encode(""))[None], ids)
    x, ids, drop_img, t, noise = (v.to(device) for v in (x, ids, drop_img, t, noise))
    img_emb, txt_emb, hid = clip_condition(clip, x, ids)
    img_emb = torch.where(drop_img[:, None], torch.zeros_like(img_emb), img_emb)
    xt = diff.q_sample(x, t, noise)
    out = model(xt, t, img_emb, txt_emb, hid)
    return diff.hybrid_loss(out, x, xt, t, noise, args.prediction)


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
    model = Decoder(ch=args.ch, position=args.position).to(device)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    ck_path = os.path.join(args.out, "last.pt")
    ck = load_ckpt(ck_path)
    step = 0
    if ck is not None:
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        saved = ck.get("prediction", "epsilon")  # runs before the flag existed predicted epsilon
        if args.prediction not in (None, saved):
            raise SystemExit("--prediction %s, but %s was trained with %s" % (args.prediction, ck_path, saved))
        args.prediction = saved
        print("resumed decoder at step", step, "prediction", saved, flush=True)
    if args.prediction is None:
        args.prediction = "v"
    if ck is None and args.init:
        init = load_ckpt(args.init)
        new = set(model.state_dict()) - set(init["model"])  # position=True on a model without: added, zero
        if new and not args.position:
            raise SystemExit("%s lacks %s" % (args.init, sorted(new)))
        model.load_state_dict(init["model"], strict=not new)
        ema.load_state_dict(init["ema"], strict=not new)
        print("warm start from", args.init, "step", init["step"], "new parameters", sorted(new), flush=True)
    log.log(event="start", step=step, params=count_params(model), config=model.config, args=vars(args))

    last_save = time.time()
    t0 = time.time()
    acc = {"loss": 0.0, "mse": 0.0, "vb": 0.0, "n": 0}
    model.train()
    while step < args.steps:
        g = step_generator(args.seed, step)
        lr = args.lr * min(1.0, (step + 1) / args.warmup)
        for pg in opt.param_groups:
            pg["lr"] = lr
        loss, mse, vb = step_loss(model, clip, diff, data, g, args, device)
        loss = loss.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        d = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        acc["loss"] += loss.item()
        acc["mse"] += mse.mean().item()
        acc["vb"] += vb.mean().item()
        acc["n"] += 1
        if step % 50 == 0:
            n = acc["n"]
            log.log(step=step, loss=round(acc["loss"] / n, 5), mse=round(acc["mse"] / n, 5), vb=round(acc["vb"] / n, 5),
                    grad_norm=round(float(gn), 3), lr=lr, s_per_step=round((time.time() - t0) / n, 3))
            t0, acc = time.time(), {"loss": 0.0, "mse": 0.0, "vb": 0.0, "n": 0}
        if time.time() - last_save > args.save_every_s:
            save_ckpt(ck_path, {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                                "step": step, "config": model.config, "prediction": args.prediction, "args": vars(args)})
            last_save = time.time()
            t0 = time.time() - (time.time() - t0)  # saving time is not step time
        if step % args.sample_every == 0:
            ts = time.time()
            sample_grid(ema, clip, diff, args, step, device)
            log.log(event="samples", step=step, seconds=round(time.time() - ts, 1))
            t0 += time.time() - ts
    save_ckpt(ck_path, {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                        "step": step, "config": model.config, "prediction": args.prediction, "args": vars(args)})
    log.log(event="done", step=step)


@torch.no_grad()
def sample_grid(ema, clip, diff, args, step, device="cpu"):
    """Samples the fixed prompts (text + the CLIP image embedding of a matching validation render, as the prior
    would supply), DDPM with 50 respaced steps and classifier-free guidance; writes a PNG grid and the raw arrays."""
    val_dir = dataset_dir(args.val)
    val = np.load(os.path.join(val_dir, "images_32.npy"), mmap_mode="r")
    with open(os.path.join(val_dir, "captions.jsonl")) as f:
        recs = [json.loads(l) for _, l in zip(range(len(SAMPLE_PROMPTS)), f)]
    prompts = [r["descriptive"] for r in recs] + SAMPLE_PROMPTS  # first half: val scenes; second half: fixed prompts
    x_val = images_to_float(val[: len(recs)])
    xs = guided_samples(ema, clip, diff, args.prediction, x_val.to(device), prompts).cpu()
    u8 = ((xs.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    ref = ((x_val.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    out = os.path.join(args.out, "samples")
    save_png(os.path.join(out, "step_%07d.png" % step), np.kron(grid(np.concatenate([ref, u8]), 8), np.ones((4, 4, 1), dtype=np.uint8)))
    np.save(os.path.join(out, "step_%07d.npy" % step), u8)
    with open(os.path.join(out, "prompts.json"), "w") as f:
        json.dump(prompts, f, indent=1)


@torch.no_grad()
def guided_samples(ema, clip, diff, prediction, x_val, prompts, guidance=3.0, steps=50):
    """DDPM samples (respaced to `steps`, classifier-free guidance) of prompts on x_val's device: the first
    len(x_val) conditioned on those images' CLIP embeddings, the rest on text only. Noise from a fixed CPU seed."""
    device = x_val.device
    ids = torch.tensor([encode(p) for p in prompts], device=device)
    img_val, txt, hid = clip_condition(clip, x_val, ids)
    # for the fixed prompts there is no image: use the text embedding in place of the image embedding is wrong, so
    # condition them on text only (image embedding zeroed) until the prior exists
    img = torch.cat([img_val, torch.zeros(len(prompts) - len(x_val), img_val.shape[1], device=device)])
    n = len(prompts)
    _, utxt, uhid = clip_condition(clip, None, torch.tensor([encode("")] * n, device=device))
    uimg = torch.zeros_like(img)

    net = EpsilonOutput(ema, diff.sqrt_ac, diff.sqrt_1mac).to(device) if prediction == "v" else ema

    def fn(x, t):
        out = net(torch.cat([x, x]), torch.cat([t, t]), torch.cat([img, uimg]), torch.cat([txt, utxt]),
                  torch.cat([hid, uhid]))
        c, u = out[:n], out[n:]
        eps = u[:, :3] + guidance * (c[:, :3] - u[:, :3])
        return torch.cat([eps, c[:, 3:]], dim=1)

    return diff.sample_ddpm(fn, (n, 3, 32, 32), steps, torch.Generator().manual_seed(1234), device)


if __name__ == "__main__":
    main()
