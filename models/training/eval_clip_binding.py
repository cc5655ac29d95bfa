"""How well mini-CLIP tells a two-object caption from its minimal edits (hard_negatives.py): for each validation
two-object scene and caption style, the fraction of (true caption, edited caption) pairs where the image's CLIP
similarity is higher for the true one (0.5 = chance), split by the kind of edit. Also plain retrieval: each of the
scenes' image -> its descriptive caption among all distinct descriptive captions of those scenes (top-1).

  python3 eval_clip_binding.py --clip $D/ckpt/clip_neg/final.pt
"""
import argparse
import json
import os
from collections import defaultdict

import numpy as np
import torch
import torch.nn.functional as F

from common import TRAIN_DIR, encode, images_to_float
from hard_negatives import labelled_negatives
from train_decoder import load_clip


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--val", default=os.path.join(TRAIN_DIR, "data/val-s2-2k"))
    ap.add_argument("--clip", default=os.path.join(TRAIN_DIR, "ckpt/clip/final.pt"))
    ap.add_argument("--n", type=int, default=1000, help="validation scenes to read")
    args = ap.parse_args()
    torch.set_num_threads(1)
    clip = load_clip(args.clip)
    recs = [json.loads(line) for line in open(os.path.join(args.val, "captions.jsonl"))][: args.n]
    images = np.load(os.path.join(args.val, "images_32.npy"))
    wins = defaultdict(list)
    for r in recs:
        if len(r["metadata"]["objects"]) != 2:
            continue
        img = F.normalize(clip.image(images_to_float(images[r["id"]:r["id"] + 1])), dim=-1)[0]
        for style in ("short", "descriptive", "relational"):
            true = r[style]
            if true is None:
                continue
            negs = labelled_negatives(true)
            txt = F.normalize(clip.text(torch.tensor([encode(c) for c in [true] + [n for _, n in negs]]))[0], dim=-1)
            sim = txt @ img
            for (kind, _), s in zip(negs, sim[1:].tolist()):
                win = float(sim[0] > s)
                wins["%s: %s" % (style, kind)].append(win)
                wins["all"].append(win)
    report = {k: {"acc": round(float(np.mean(v)), 4), "pairs": len(v)} for k, v in sorted(wins.items())}
    report["retrieval: image -> descriptive caption, top-1"] = retrieval_top1(clip, recs, images)
    print(json.dumps(report, indent=1))


def retrieval_top1(clip, recs, images):
    captions = sorted({r["descriptive"] for r in recs})
    txt = F.normalize(clip.text(torch.tensor([encode(c) for c in captions]))[0], dim=-1)
    img = F.normalize(clip.image(images_to_float(images[[r["id"] for r in recs]])), dim=-1)
    best = (img @ txt.t()).argmax(1).tolist()
    hits = [captions[j] == r["descriptive"] for j, r in zip(best, recs)]
    return {"acc": round(float(np.mean(hits)), 4), "images": len(recs), "captions": len(captions)}


if __name__ == "__main__":
    main()
