"""Stage 1: mini-CLIP (contrastive). Resumable: re-run the same command to continue from the checkpoint.

  python3 train_clip.py --data /root/unclip-train/data/train-s1-200k --steps 800

Phases 2 and 3 (compositional hard negatives from hard_negatives.py; first the text tower alone, then both towers
with the image embedding anchored to the phase-1 tower's, so the space the prior and decoder use moves little):

  python3 train_clip.py --init $D/ckpt/clip/final.pt --out $D/ckpt/clip_neg --hard-negatives --freeze-image \
      --steps 1500 --lr 3e-4 --warmup 100
  python3 train_clip.py --init $D/ckpt/clip_neg/final.pt --out $D/ckpt/clip_joint --hard-negatives --anchor 5 \
      --steps 1500 --lr 3e-4 --warmup 100 --threads 1

Phase 5 (mirror pairs): every scene in a batch whose caption says left or right is joined by its horizontal mirror
image with the mirrored caption ("left" <-> "right": cells and relations), an exact Shapes-World scene, so the two
towers must tell a scene from its mirror image (after phase 4 they did not: relation flips of same-row pairs 0.55,
vertical 0.99; image cosine with the mirror image 0.95):

  python3 train_clip.py --init $D/ckpt/clip_free/final.pt --out $D/ckpt/clip_mirror --hard-negatives --mirror \
      --style-weights 1,1,2 --two-object-fraction 0.7 --steps 1500 --lr 3e-4 --warmup 100
"""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from clip_model import MiniClip, contrastive_loss
from common import (TRAIN_DIR, VOCAB, Logger, ShapesData, add_batch_mix_args, add_device_arg, count_params, decode,
                    encode, load_ckpt, save_ckpt, seed_all, step_generator, write_tokenizer)
from hard_negatives import negatives


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(TRAIN_DIR, "data/train-s1-200k"))
    ap.add_argument("--out", default=os.path.join(TRAIN_DIR, "ckpt/clip"))
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--save-every-s", type=float, default=180)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N training scenes (smoke tests)")
    ap.add_argument("--init", default=None, help="start from this CLIP checkpoint (phase 2)")
    ap.add_argument("--hard-negatives", action="store_true",
                    help="add one minimal-edit negative caption per two-object caption (hard_negatives.py)")
    ap.add_argument("--freeze-image", action="store_true", help="train the text tower (and logit scale) only")
    ap.add_argument("--anchor", type=float, default=0.0,
                    help="with --init: add W * mean(1 - cos(image embedding, the --init image tower's)) to the loss,"
                         " so the image-embedding space the prior and decoder were trained on moves little")
    ap.add_argument("--mirror", action="store_true",
                    help="add each left/right caption's horizontal mirror pair (image flipped, left <-> right)")
    add_batch_mix_args(ap)
    add_device_arg(ap)
    return ap


def mirror_pairs(x, ids):
    """The horizontal mirror of every scene whose caption names left or right: (images, token ids); a mirror image
    is the scene with its columns reversed, and its caption is the original's with "left" and "right" exchanged."""
    left, right = VOCAB["left"], VOCAB["right"]
    has = ((ids == left) | (ids == right)).any(1)
    m_ids = ids[has].clone()
    m_ids[ids[has] == left] = right
    m_ids[ids[has] == right] = left
    return x[has].flip(-1), m_ids


def step_loss(model, anchor, data, g, args, device):
    """One step's loss. The batch and its hard negatives are drawn from the CPU generator g and then moved to device,
    so every device trains on the same data. -> loss, logits, ids (on device), image drift, logit scale."""
    x, ids, _ = data.batch(g, args.batch, args.style_weights, args.two_object_fraction)
    if args.mirror:
        mx, mids = mirror_pairs(x, ids)
        x, ids = torch.cat([x, mx]), torch.cat([ids, mids])
    neg = hard_negative_ids(ids, g) if args.hard_negatives else ids[:0]
    x, ids, neg = x.to(device), ids.to(device), neg.to(device)
    img, txt, scale = model(x, ids)
    if len(neg):
        txt_neg = F.normalize(model.text(neg)[0], dim=-1)
        loss, logits = contrastive_loss(img, txt, scale, ids, txt_neg, neg)
    else:
        loss, logits = contrastive_loss(img, txt, scale, ids)
    drift = torch.zeros((), device=device)
    if anchor is not None:
        with torch.no_grad():
            img0 = F.normalize(anchor(x), dim=-1)
        drift = (1 - (img * img0).sum(-1)).mean()
        loss = loss + args.anchor * drift
    return loss, logits, ids, drift, scale


def main(argv=None):
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    write_tokenizer(os.path.join(args.out, "tokenizer.json"))
    log = Logger(os.path.join(args.out, "metrics.jsonl"))
    data = ShapesData(args.data, 32, args.limit)
    model = MiniClip()
    if args.init:
        model.load_state_dict(load_ckpt(args.init)["model"])
    if args.freeze_image:
        for p in model.image.parameters():
            p.requires_grad_(False)
    model.to(device)
    anchor = None
    if args.anchor > 0:
        if not args.init:
            raise SystemExit("--anchor needs --init")
        anchor = MiniClip()
        anchor.load_state_dict(load_ckpt(args.init)["model"])
        anchor = anchor.image.eval().to(device)
        for p in anchor.parameters():
            p.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.05, betas=(0.9, 0.98))
    ck_path = os.path.join(args.out, "last.pt")
    ck = load_ckpt(ck_path)
    step = 0
    if ck is not None:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        print("resumed clip at step", step, flush=True)
    log.log(event="start", step=step, params=count_params(model), text_params=count_params(model.text),
            image_params=count_params(model.image), n=len(data))

    def lr_at(s):
        if s < args.warmup:
            return args.lr * (s + 1) / args.warmup
        p = (s - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * 0.5 * (1 + np.cos(np.pi * min(1.0, p)))

    last_save = time.time()
    t0, acc_loss, acc_acc, acc_drift, acc_n = time.time(), 0.0, 0.0, 0.0, 0
    model.train()
    while step < args.steps:
        g = step_generator(args.seed, step)
        for pg in opt.param_groups:
            pg["lr"] = lr_at(step)
        loss, logits, ids, drift, scale = step_loss(model, anchor, data, g, args, device)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        with torch.no_grad():
            same = (ids[:, None, :] == ids[None, :, :]).all(-1)
            acc = same[torch.arange(len(ids), device=device), logits[:, :len(ids)].argmax(1)].float().mean().item()
        acc_loss += loss.item()
        acc_acc += acc
        acc_drift += drift.item()
        acc_n += 1
        if step % 50 == 0 or step == args.steps:
            log.log(step=step, loss=round(acc_loss / acc_n, 4), i2t_acc=round(acc_acc / acc_n, 4),
                    image_drift=round(acc_drift / acc_n, 5),
                    scale=round(scale.item(), 2), lr=lr_at(step), s_per_step=round((time.time() - t0) / acc_n, 3))
            t0, acc_loss, acc_acc, acc_drift, acc_n = time.time(), 0.0, 0.0, 0.0, 0
        if time.time() - last_save > args.save_every_s or step == args.steps:
            save_ckpt(ck_path, {"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "args": vars(args)})
            last_save = time.time()
    save_ckpt(os.path.join(args.out, "final.pt"), {"model": model.state_dict(), "step": step, "args": vars(args)})
    log.log(event="done", step=step)


def hard_negative_ids(ids, g):
    """One random minimal-edit negative (token ids) per caption that has any; (K, CONTEXT), K <= batch."""
    out = []
    for row in ids.tolist():
        cands = negatives(decode(row))
        if cands:
            out.append(encode(cands[int(torch.randint(0, len(cands), (1,), generator=g))]))
    return torch.tensor(out, dtype=torch.long).reshape(-1, ids.shape[1])


if __name__ == "__main__":
    main()
