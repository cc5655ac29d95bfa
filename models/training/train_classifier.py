"""ADM classifier guidance: trains the noisy-image classifier of classifier_model.py on the decoder's x_t (cosine
schedule, T = 1000, t uniform), cross-entropy on the object's colour, shape and cell (one-object scenes). Resumable from <out>/last.pt
with identical per-step randomness; EMA weights are the ones exported (export_classifier.py).

  nohup nice python3 train_classifier.py --device cpu > /root/unclip-train/logs/classifier.log 2>&1 &
"""
import argparse
import copy
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from classifier_model import HEADS, NoisyClassifier
from common import TRAIN_DIR, Logger, count_params, load_ckpt, save_ckpt, seed_all, step_generator
from diffusion import Diffusion


def load_labels(root, n):
    """(n, 4) int64: label indices (colour, shape, cell) of each scene's first object, then its object count; cached
    next to the data."""
    cache = os.path.join(root, "classifier_labels_%d.npy" % n)
    if os.path.exists(cache):
        return np.load(cache)
    out = np.zeros((n, len(HEADS) + 1), dtype=np.int64)
    with open(os.path.join(root, "captions.jsonl")) as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            objects = json.loads(line)["metadata"]["objects"]
            out[i] = [labels.index(objects[0][key]) for key, labels in HEADS] + [len(objects)]
    np.save(cache + ".tmp.npy", out)
    os.replace(cache + ".tmp.npy", cache)
    return out


class LabelledImages:
    """Scenes with one object only: in a two-object scene the caption's object order is the renderer's random one,
    so "the first object" cannot be told from the image (a classifier trained on both learns about half of it)."""

    def __init__(self, root, limit=None):
        imgs = np.load(os.path.join(root, "images_32.npy"), mmap_mode="r")
        n = imgs.shape[0] if limit is None else min(limit, imgs.shape[0])
        labels = load_labels(root, n)
        keep = np.flatnonzero(labels[:, -1] == 1)
        self.images = np.ascontiguousarray(imgs[:n][keep])
        self.labels = np.ascontiguousarray(labels[keep, :-1])
        self.n = len(keep)

    def take(self, idx, device):
        x = torch.from_numpy(self.images[idx]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        return x.to(device), torch.from_numpy(self.labels[idx]).to(device)


def loss_and_accuracy(logits, labels):
    loss, acc, start = 0.0, [], 0
    for h, (_, names) in enumerate(HEADS):
        end = start + len(names)
        z = logits[:, start:end]
        loss = loss + F.cross_entropy(z, labels[:, h])
        acc.append((z.argmax(1) == labels[:, h]).float().mean().item())
        start = end
    return loss, acc


@torch.no_grad()
def evaluate(model, val, diff, device, buckets=(0, 250, 500, 750, 999)):
    """Accuracy per head on the validation scenes at a few fixed noise levels (fixed noise, seed 7)."""
    g = torch.Generator().manual_seed(7)
    idx = np.arange(val.n)
    x, y = val.take(idx, device)
    out = {}
    for tb in buckets:
        t = torch.full((val.n,), tb, dtype=torch.long)
        noise = torch.randn(x.shape, generator=g).to(device)
        xt = diff.q_sample(x.cpu(), t, noise.cpu()).to(device)
        _, acc = loss_and_accuracy(model(xt, t.to(device)), y)
        out["t%d" % tb] = [round(a, 4) for a in acc]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(TRAIN_DIR, "data/train-s1-200k"))
    ap.add_argument("--val", default=os.path.join(TRAIN_DIR, "data/val-s2-2k"))
    ap.add_argument("--out", default=os.path.join(TRAIN_DIR, "ckpt/classifier"))
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--save-every-s", type=float, default=300)
    ap.add_argument("--eval-every", type=int, default=2000)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    device = torch.device(args.device)
    log = Logger(os.path.join(args.out, "metrics.jsonl"))
    data = LabelledImages(args.data, args.limit)
    val = LabelledImages(args.val, 1000) if os.path.exists(os.path.join(args.val, "images_32.npy")) else None
    diff = Diffusion.cosine(1000)
    model = NoisyClassifier().to(device)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    ck_path = os.path.join(args.out, "last.pt")
    ck = load_ckpt(ck_path)
    step = 0
    if ck is not None:
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        print("resumed classifier at step", step, flush=True)
    log.log(event="start", step=step, params=count_params(model), config=model.config, args=vars(args))

    def save():
        save_ckpt(ck_path, {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                            "step": step, "config": model.config, "args": vars(args)})

    last_save, t0, acc_sum, n = time.time(), time.time(), np.zeros(len(HEADS)), 0
    model.train()
    while step < args.steps:
        g = step_generator(args.seed, step)  # drawn on the CPU: the same batches on any device
        idx = torch.randint(0, data.n, (args.batch,), generator=g).numpy()
        t = torch.randint(0, diff.T, (args.batch,), generator=g)
        x, y = data.take(idx, "cpu")
        xt = diff.q_sample(x, t, torch.randn(x.shape, generator=g)).to(device)
        lr = args.lr * min(1.0, (step + 1) / 500) * (0.5 * (1 + np.cos(np.pi * step / args.steps)))
        for pg in opt.param_groups:
            pg["lr"] = lr
        loss, acc = loss_and_accuracy(model(xt, t.to(device)), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        d = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        acc_sum += acc
        n += 1
        if step % 100 == 0:
            log.log(step=step, loss=round(loss.item(), 4), acc=[round(a, 3) for a in acc_sum / n], lr=lr,
                    s_per_step=round((time.time() - t0) / n, 4))
            t0, acc_sum, n = time.time(), np.zeros(len(HEADS)), 0
        if time.time() - last_save > args.save_every_s:
            save()
            last_save = time.time()
        if val is not None and step % args.eval_every == 0:
            log.log(event="eval", step=step, accuracy=evaluate(ema, val, diff, device))
    save()
    if val is not None:
        log.log(event="eval", step=step, accuracy=evaluate(ema, val, diff, device))
    log.log(event="done", step=step)


if __name__ == "__main__":
    main()
