"""Trains the captioner (captioner_model.Captioner) with teacher forcing on the 32x32 training set's captions.

Each sample picks the short or descriptive caption (50/50) and is prefixed [BOS, style token]; cross-entropy on
every token after the style token (words and EOS; padding ignored). Light image augmentation (Gaussian noise on
half the images, sigma <= 0.06) so generated images, which are never exactly flat, caption as well as renders.
AdamW lr 1e-3, warmup 200, cosine decay to --steps, grad clip 1, EMA 0.999. Resumable with identical per-step
randomness; checkpoints written atomically every few minutes; evaluates greedy captions on validation scenes
(per-attribute accuracy, caption_eval.py) every --eval-every steps and at the end.

  nohup /usr/bin/python3 train_captioner.py --steps 4000 >> /root/unclip-train/logs/captioner.log 2>&1 &
"""
import argparse
import copy
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from caption_eval import exact, score
from captioner_model import CAP_CONTEXT, CAP_VOCAB, STYLE_TOKENS, Captioner, encode_caption, greedy
from common import (BOS, PAD, TRAIN_DIR, Logger, add_device_arg, caption_tokens, count_params, dataset_dir,
                    images_to_float, load_ckpt, save_ckpt, seed_all, step_generator)

STYLES = ("short", "descriptive")


CELL_ORDER = ["top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right"]


def canonical_captions(meta):
    """Short and descriptive captions of a scene with its objects in reading order of their cells (top-left first),
    in the spec's grammar (the dataset lists two objects in arbitrary order; a fixed order removes the ambiguity of
    which object to describe first, so the decoder can bind colour, shape, size and cell of the same object)."""
    objs = sorted(meta["objects"], key=lambda o: CELL_ORDER.index(o["cell"]))
    short = " and ".join("a %s %s" % (o["color"], o["shape"]) for o in objs)
    desc = " and ".join("a %s %s %s at the %s" % (o["size"], o["color"], o["shape"], o["cell"]) for o in objs)
    desc += (", on a %s background" if len(objs) > 1 else " on a %s background") % meta["background"]
    return short, desc


def canonical_tokens(root, n):
    cache = os.path.join(root, "captioner_canonical_%d.npz" % n)
    if os.path.exists(cache):
        return np.load(cache)["tokens"]
    from common import encode
    tok = np.zeros((n, 2, 24), dtype=np.int64)
    with open(os.path.join(root, "captions.jsonl")) as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            rec = json.loads(line)
            for k, text in enumerate(canonical_captions(rec["metadata"])):
                tok[i, k] = encode(text)
    tmp = cache + ".tmp.npz"
    np.savez(tmp, tokens=tok)
    os.replace(tmp, cache)
    return tok


class CapData:
    """200k 32x32 images + captions as [BOS, style, words..., EOS]: the mini-CLIP token cache (N,3,24), or with
    canonical=True captions regenerated from the metadata with objects in reading order."""

    def __init__(self, root, canonical=False, limit=None):
        root = dataset_dir(root)
        self.images = np.load(os.path.join(root, "images_32.npy"), mmap_mode="r")
        self.n = self.images.shape[0] if limit is None else min(limit, self.images.shape[0])
        if canonical:
            tok = canonical_tokens(root, self.n)
        else:
            tok = caption_tokens(root, self.n, self.images.shape[0])[0][:, :2]
        # short, descriptive (N,2,24): [BOS] words [EOS] pad
        out = np.full((self.n, 2, CAP_CONTEXT), PAD, dtype=np.int64)
        out[:, :, 0] = BOS
        out[:, 0, 1] = CAP_VOCAB[STYLE_TOKENS["short"]]
        out[:, 1, 1] = CAP_VOCAB[STYLE_TOKENS["descriptive"]]
        out[:, :, 2:2 + tok.shape[2] - 1] = tok[:, :, 1:]
        self.tokens = out

    def batch(self, g, b):
        idx = torch.randint(0, self.n, (b,), generator=g).numpy()
        style = (torch.rand(b, generator=g) < 0.5).long().numpy()
        x = images_to_float(self.images[idx])
        ids = torch.from_numpy(self.tokens[idx, style])
        noisy = torch.rand(b, generator=g) < 0.5
        sig = 0.06 * torch.rand(b, generator=g) * noisy.float()
        x = x + sig[:, None, None, None] * torch.randn(x.shape, generator=g)
        return x, ids


def evaluate(model, val_root, n=400, batch=100, canonical=False, device="cpu"):
    val_root = dataset_dir(val_root)
    imgs = np.load(os.path.join(val_root, "images_32.npy"), mmap_mode="r")
    recs = []
    with open(os.path.join(val_root, "captions.jsonl")) as f:
        for _, line in zip(range(n), f):
            recs.append(json.loads(line))
    res = {}
    model.eval()
    for style in STYLES:
        caps = []
        for i in range(0, n, batch):
            caps += greedy(model, images_to_float(imgs[i:i + batch]).to(device), style)
        r = score(caps, [x["metadata"] for x in recs], style)
        refs = [canonical_captions(x["metadata"])[STYLES.index(style)] if canonical else x[style] for x in recs]
        r["exact"] = exact(caps, refs)
        r["example"] = caps[0]
        res[style] = r
    return res


def step_loss(model, data, g, args, device):
    """One step's cross-entropy. The batch (and its image noise) is drawn from the CPU generator g and then moved to
    device, so every device trains on the same data."""
    x, ids = data.batch(g, args.batch)
    x, ids = x.to(device), ids.to(device)
    logits = model(x, ids)
    tgt = ids[:, 1:].clone()
    tgt[:, 0] = PAD  # the style token is given, not predicted
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=PAD)


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(TRAIN_DIR, "data/train-s1-200k"))
    ap.add_argument("--val", default=os.path.join(TRAIN_DIR, "data/val-s2-2k"))
    ap.add_argument("--out", default=os.path.join(TRAIN_DIR, "ckpt/captioner"))
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save-every-s", type=float, default=180)
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--eval-n", type=int, default=400)
    ap.add_argument("--bench", type=int, default=0)
    ap.add_argument("--stop-at", type=int, default=None,
                    help="stop (and save) at this step; the cosine schedule still spans --steps (reproduces a run cut short)")
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--canonical", action="store_true", help="objects in reading order (canonical_captions)")
    ap.add_argument("--init", default=None, help="start from this checkpoint's weights (fine-tuning)")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N training scenes (smoke tests)")
    add_device_arg(ap)
    return ap


def main(argv=None):
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    device = torch.device(args.device)
    model = Captioner().to(device)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    ck_path = os.path.join(args.out, "last.pt")
    ck = None if args.bench else load_ckpt(ck_path)
    step = 0
    if ck is not None:
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        print("resumed captioner at step", step, flush=True)
    elif args.init:
        ick = load_ckpt(args.init)
        model.load_state_dict(ick["model"])
        ema.load_state_dict(ick["ema"])
        print("initialised from", args.init, "step", ick["step"], flush=True)
    if args.eval_only:
        print(json.dumps({"step": step, "eval": evaluate(ema, args.val, args.eval_n, canonical=args.canonical, device=device)}), flush=True)
        return
    data = CapData(args.data, args.canonical, args.limit)
    log = Logger(os.path.join(args.out, "metrics.jsonl")) if not args.bench else None
    if log:
        log.log(event="start", step=step, params=count_params(model), config=model.config, args=vars(args))
    else:
        print("params", count_params(model), flush=True)

    def save():
        save_ckpt(ck_path, {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                            "step": step, "config": model.config, "args": vars(args)})

    last_save, t0, acc, n = time.time(), time.time(), 0.0, 0
    end = step + args.bench if args.bench else min(args.steps, args.stop_at or args.steps)
    model.train()
    while step < end:
        g = step_generator(args.seed, step)
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, step / args.steps)))
        for pg in opt.param_groups:
            pg["lr"] = lr
        loss = step_loss(model, data, g, args, device)
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
        if step % 50 == 0:
            log.log(step=step, loss=round(acc / n, 5), grad_norm=round(float(gn), 3), lr=round(lr, 7),
                    s_per_step=round((time.time() - t0) / n, 3))
            t0, acc, n = time.time(), 0.0, 0
        if time.time() - last_save > args.save_every_s:
            ts = time.time()
            save()
            last_save = time.time()
            t0 += time.time() - ts
        if step % args.eval_every == 0 or step == args.steps:
            ts = time.time()
            log.log(event="eval", step=step, eval=evaluate(ema, args.val, args.eval_n, canonical=args.canonical, device=device))
            model.train()
            t0 += time.time() - ts
    if args.bench:
        print("s/step %.3f loss %.4f" % ((time.time() - t0) / args.bench, acc / n), flush=True)
        return
    save()
    log.log(event="done", step=step)


if __name__ == "__main__":
    main()
