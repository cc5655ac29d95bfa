"""Exports the noisy-image classifier (train_classifier.py, EMA weights) as the bundle's `classifier` stage: the graph
of classifier_model.GuidanceGradient, (sample, timestep, target) -> (gradient, logits), with labels.json (the heads,
their labels and the prompt phrases that name them) and reference.json for `unclip models check`.

  /usr/bin/python3 export_classifier.py --out ../bundle/classifier
"""
import argparse
import json
import os

import torch

from classifier_model import CELLS, HEADS, NUM_LABELS, GuidanceGradient, NoisyClassifier
from common import TRAIN_DIR, load_ckpt
from export_extra import pattern
from export_onnx import REF_T, write_reference

PATTERN_SAMPLE = [0, 3, 5, 7]
PATTERN_TARGET = [0, 1]


def phrases(head, label):
    # cells are named "at the <cell>" in every caption style; relations ("to the left of") are not cells
    return ["at the " + label] if head == "cell" else [label]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(TRAIN_DIR, "ckpt/classifier/last.pt"))
    ap.add_argument("--out", default=os.path.join(TRAIN_DIR, "bundle/classifier"))
    ap.add_argument("--notes", default="")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ck = load_ckpt(args.ckpt)
    clf = NoisyClassifier(**ck["config"])
    clf.load_state_dict(ck["ema"])
    model = GuidanceGradient(clf.eval()).eval()
    os.makedirs(args.out, exist_ok=True)
    names = ["sample", "timestep", "target"]
    outs = ["gradient", "logits"]
    torch.onnx.export(model, (torch.zeros(2, 3, 32, 32), torch.zeros(2, dtype=torch.long), torch.zeros(2, NUM_LABELS)),
                      os.path.join(args.out, "classifier.onnx"), opset_version=17, input_names=names,
                      output_names=outs, dynamic_axes={k: {0: "batch"} for k in names + outs})
    labels = {"heads": [{"name": h, "labels": {l: phrases(h, l) for l in ls}} for h, ls in HEADS]}
    json.dump(labels, open(os.path.join(args.out, "labels.json"), "w"), indent=1)
    manifest = {
        "manifest_version": 1,
        "kind": "classifier",
        "onnx": "classifier.onnx",
        "inputs": [
            {"name": "sample", "type": "float32", "shape": ["batch", 3, 32, 32]},
            {"name": "timestep", "type": "int64", "shape": ["batch"]},
            {"name": "target", "type": "float32", "shape": ["batch", NUM_LABELS]},
        ],
        "outputs": [
            {"name": "gradient", "type": "float32", "shape": ["batch", 3, 32, 32]},
            {"name": "logits", "type": "float32", "shape": ["batch", NUM_LABELS]},
        ],
        "resolution": {"input": 32},
        "notes": ("ADM noisy-image classifier of the decoder's x_t (cosine schedule, T = 1000): colour, shape and cell"
                  " of the main object; the graph returns grad_x sum_heads target . log_softmax(logits), its backward"
                  " pass written out (classifier_model.py). step %d. %s" % (ck["step"], args.notes)).strip(),
    }
    json.dump(manifest, open(os.path.join(args.out, "manifest.json"), "w"), indent=1)
    b = 1
    sample = pattern((b, 3, 32, 32), PATTERN_SAMPLE)
    target = pattern((b, NUM_LABELS), PATTERN_TARGET)
    with torch.no_grad():
        grad, _ = model(sample, torch.tensor([REF_T]), target)
    write_reference(args.out, {"sample": ("pattern", (b, 3, 32, 32), PATTERN_SAMPLE),
                               "timestep": ("values", (b,), [REF_T]),
                               "target": ("pattern", (b, NUM_LABELS), PATTERN_TARGET)},
                    "gradient", grad, slices=[(0, 0, 4, 0, 4), (2, 28, 32, 28, 32)])
    print("wrote", args.out, "cells", CELLS)


if __name__ == "__main__":
    main()
