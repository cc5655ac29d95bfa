"""Quick prior check on validation captions: samples image embeddings (DDPM, respaced, CFG) for the descriptive
captions of N validation scenes and reports the cosine similarity to the true CLIP image embedding and how often
the nearest validation image (by CLIP image embedding) has exactly the caption's metadata.

  python3 eval_prior.py --n 200

With --relational it samples for the relational captions of two-object validation scenes instead ("a red circle
above a blue square") and reads each sample through its nearest *training* image (200k, by CLIP image embedding,
from the prior's image_embeds.npy): how often that scene has the caption's two colour-shape pairs (binding) and,
when it does, whether the relation holds.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from common import PAD, TRAIN_DIR, encode, images_to_float, load_ckpt
from diffusion import Diffusion
from prior_model import Prior
from train_decoder import load_clip


@torch.no_grad()
def sample_prior(prior, diff, temb, hid, mask, utemb, uhid, umask, steps, guidance, g):
    sp, tmap = diff.respaced(steps)
    n = temb.shape[0]
    x = torch.randn(n, temb.shape[1], generator=g)
    for i in reversed(range(sp.T)):
        t = torch.full((n,), int(tmap[i]), dtype=torch.long)
        both = prior(torch.cat([x, x]), torch.cat([t, t]), torch.cat([temb, utemb]), torch.cat([hid, uhid]),
                     torch.cat([mask, umask]))
        x0 = both[n:] + guidance * (both[:n] - both[n:])
        ti = torch.full((n,), i, dtype=torch.long)
        mean, logv = sp.q_posterior(x0, x, ti)
        x = mean + (torch.exp(0.5 * logv) * torch.randn(x.shape, generator=g) if i > 0 else 0)
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--val", default=os.path.join(TRAIN_DIR, "data/val-s2-2k"))
    ap.add_argument("--clip", default=os.path.join(TRAIN_DIR, "ckpt/clip/final.pt"))
    ap.add_argument("--prior", default=os.path.join(TRAIN_DIR, "ckpt/prior/last.pt"))
    ap.add_argument("--stats", default=os.path.join(TRAIN_DIR, "ckpt/prior/embed_norm.json"))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--guidance", type=float, default=2.0)
    ap.add_argument("--relational", action="store_true", help="relational captions, judged via the nearest train image")
    ap.add_argument("--train", default=os.path.join(TRAIN_DIR, "data/train-s1-200k"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    clip = load_clip(args.clip)
    ck = load_ckpt(args.prior)
    prior = Prior(**ck["config"])
    prior.load_state_dict(ck["ema"])
    prior.eval()
    st = json.load(open(args.stats))
    mean, std = torch.tensor(st["mean"]), torch.tensor(st["std"])
    val = np.load(os.path.join(args.val, "images_32.npy"))
    recs = [json.loads(l) for l in open(os.path.join(args.val, "captions.jsonl"))]
    if args.relational:
        return relational(args, clip, prior, mean, std, recs, ck["step"])
    with torch.no_grad():
        emb_all = F.normalize(clip.image(images_to_float(val)), dim=-1)
    z = _sample(clip, prior, [r["descriptive"] for r in recs[: args.n]], args)
    e = F.normalize(z * std + mean, dim=-1)
    cos = (e * emb_all[: args.n]).sum(1)
    nn_idx = (e @ emb_all.t()).argmax(1)
    match = np.mean([recs[j]["metadata"]["objects"] and _same(recs[j]["metadata"], recs[i]["metadata"])
                     for i, j in enumerate(nn_idx.tolist())])
    print(json.dumps({"prior_step": ck["step"], "n": args.n, "steps": args.steps, "guidance": args.guidance,
                      "cos_to_true": round(cos.mean().item(), 4),
                      "nearest_val_image_same_attributes": round(float(match), 4)}))


def relational(args, clip, prior, mean, std, recs, step):
    recs = [r for r in recs if r["relational"]][: args.n]
    train_emb = torch.from_numpy(np.load(os.path.join(os.path.dirname(args.prior), "image_embeds.npy")))
    with open(os.path.join(args.train, "captions.jsonl")) as f:
        train_meta = [json.loads(line)["metadata"] for line in f]
    z = _sample(clip, prior, [r["relational"] for r in recs], args)
    nearest = (F.normalize(z * std + mean, dim=-1) @ train_emb.t()).argmax(1).tolist()
    bound = related = 0
    for r, j in zip(recs, nearest):
        want, got = r["metadata"]["objects"], train_meta[j]["objects"]
        pairs = lambda objs: sorted((o["color"], o["shape"]) for o in objs)
        if len(got) != 2 or pairs(got) != pairs(want):
            continue
        bound += 1
        first = next(o for o in got if (o["color"], o["shape"]) == (want[0]["color"], want[0]["shape"]))
        second = next(o for o in got if o is not first)
        related += _relation(first, second) in r["relational"]
    print(json.dumps({"prior_step": step, "relational_captions": len(recs), "steps": args.steps,
                      "guidance": args.guidance, "nearest_train_scene_binding": round(bound / len(recs), 4),
                      "relation_when_bound": round(related / max(1, bound), 4)}))


def _sample(clip, prior, captions, args):
    with torch.no_grad():
        ids = torch.tensor([encode(c) for c in captions])
        temb, hid = clip.text(ids)
        uids = torch.tensor([encode("")] * len(captions))
        utemb, uhid = clip.text(uids)
    return sample_prior(prior, Diffusion.cosine(1000), F.normalize(temb, dim=-1), hid, (ids != PAD).long(),
                        F.normalize(utemb, dim=-1), uhid, (uids != PAD).long(), args.steps, args.guidance,
                        torch.Generator().manual_seed(0))


def _relation(a, b):
    """The relational phrase the spec uses for a's cell against b's: rows decide first, then columns."""
    row = lambda o: 0 if o["cell"].startswith("top") else 2 if o["cell"].startswith("bottom") else 1
    col = lambda o: 0 if o["cell"].endswith("left") else 2 if o["cell"].endswith("right") else 1
    if row(a) != row(b):
        return " above " if row(a) < row(b) else " below "
    return " to the left of " if col(a) < col(b) else " to the right of "


def _same(a, b):
    key = lambda m: (m["background"], sorted((o["shape"], o["color"], o["size"], o["cell"]) for o in m["objects"]))
    return key(a) == key(b)


if __name__ == "__main__":
    main()
