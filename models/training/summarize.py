"""Prints each stage's loss curve summary and wall time from its metrics.jsonl (what train_all.sh ends with).

  python3 summarize.py [--ckpt /root/unclip-train/ckpt] [stage ...]

Wall time is the sum of the gaps between consecutive log lines, leaving out gaps over 15 minutes (the run was
stopped and resumed later), so it is time spent training, not the span of the calendar.
"""
import argparse
import json
import os

from common import TRAIN_DIR

STAGES = ["clip", "clip_neg", "clip_joint", "clip_free", "decoder", "decoder_v", "decoder_two", "decoder_rel", "decoder_free", "decoder_cool", "prior", "prior_rel", "prior_two", "prior_free", "upsampler_128", "upsampler_512", "captioner", "captioner_canon"]
MAX_GAP_S = 900


def read(path):
    with open(path) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    # a resumed run logs steps again from its last checkpoint: keep the last record per step
    by_step = {}
    times = []
    for r in recs:
        times.append(r["time"])
        if "event" not in r and "loss" in r:
            by_step[r["step"]] = r
    return [by_step[s] for s in sorted(by_step)], sorted(times)


def wall_seconds(times):
    return sum(b - a for a, b in zip(times, times[1:]) if b - a <= MAX_GAP_S)


def summary(stage, path):
    rows, times = read(path)
    if not rows:
        return "%-16s no steps logged" % stage
    losses = [r["loss"] for r in rows]
    at = lambda frac: rows[min(len(rows) - 1, int(frac * (len(rows) - 1)))]
    curve = "  ".join("%d:%.4g" % (at(f)["step"], at(f)["loss"]) for f in (0, 0.1, 0.25, 0.5, 0.75, 1.0))
    med = sorted(r.get("s_per_step", 0) for r in rows)[len(rows) // 2]
    return "%-16s steps %6d  wall %6.1f min  median %.2f s/step  min loss %.4g  curve (step:loss) %s" % (
        stage, rows[-1]["step"], wall_seconds(times) / 60, med, min(losses), curve)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(TRAIN_DIR, "ckpt"))
    ap.add_argument("stages", nargs="*", default=STAGES)
    args = ap.parse_args()
    for st in args.stages:
        path = os.path.join(args.ckpt, st, "metrics.jsonl")
        if os.path.exists(path):
            print(summary(st, path))


if __name__ == "__main__":
    main()
