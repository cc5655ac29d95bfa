"""Quick prior check on validation captions: samples image embeddings (DDPM, respaced, CFG) for the descriptive
captions of N validation scenes and reports the cosine similarity to the true CLIP image embedding and how often
the nearest validation image (by CLIP image embedding) has exactly the caption's metadata.

  python3 eval_prior.py --n 200
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
    with torch.no_grad():
        emb_all = F.normalize(clip.image(images_to_float(val)), dim=-1)
        ids = torch.tensor([encode(r["descriptive"]) for r in recs[: args.n]])
        temb, hid = clip.text(ids)
        temb = F.normalize(temb, dim=-1)
        uids = torch.tensor([encode("")] * args.n)
        utemb, uhid = clip.text(uids)
        utemb = F.normalize(utemb, dim=-1)
    z = sample_prior(prior, Diffusion.cosine(1000), temb, hid, (ids != PAD).long(), utemb, uhid,
                     (uids != PAD).long(), args.steps, args.guidance, torch.Generator().manual_seed(0))
    e = F.normalize(z * std + mean, dim=-1)
    cos = (e * emb_all[: args.n]).sum(1)
    nn_idx = (e @ emb_all.t()).argmax(1)
    match = np.mean([recs[j]["metadata"]["objects"] and _same(recs[j]["metadata"], recs[i]["metadata"])
                     for i, j in enumerate(nn_idx.tolist())])
    print(json.dumps({"prior_step": ck["step"], "n": args.n, "steps": args.steps, "guidance": args.guidance,
                      "cos_to_true": round(cos.mean().item(), 4),
                      "nearest_val_image_same_attributes": round(float(match), 4)}))


def _same(a, b):
    key = lambda m: (m["background"], sorted((o["shape"], o["color"], o["size"], o["cell"]) for o in m["objects"]))
    return key(a) == key(b)


if __name__ == "__main__":
    main()
