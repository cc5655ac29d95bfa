#!/bin/bash
# Exports phase 7 (mirror-pair CLIP, prior and decoder continued on it) into $1 (a copy of models/bundle).
set -e
D=${UNCLIP_TRAIN_DIR:-/root/unclip-train}; OUT=$1; HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"
rm -rf "$OUT"; cp -r $HERE/../bundle "$OUT"
PS=$(/usr/bin/python3 -c "import torch;print(torch.load('$D/ckpt/prior_mirror/last.pt',map_location='cpu')['step'])")
DS=$(/usr/bin/python3 -c "import torch;print(torch.load('$D/ckpt/decoder_mirror/last.pt',map_location='cpu')['step'])")
echo "prior $PS steps, decoder $DS steps"
nice /usr/bin/python3 export_onnx.py --out "$OUT" --stages text_encoder,prior,decoder --clip $D/ckpt/clip_mirror/final.pt \
  --prior $D/ckpt/prior_mirror/last.pt --prior-stats $D/ckpt/prior_mirror/embed_norm.json \
  --decoder $D/ckpt/decoder_mirror/last.pt \
  --decoder-history "2480 epsilon + 14840 v + 7501 v + 2976 v + 5523 v + 3079 v + $DS v steps: the last five with 70% two-object batches and relational captions 4x, the last on the mirror-pair CLIP at lr 5e-4"
nice /usr/bin/python3 export_extra.py --out "$OUT" --stages image_encoder --clip $D/ckpt/clip_mirror/final.pt
cp $HERE/../bundle/bundle.json "$OUT/bundle.json"  # keep the classifier stage the exporters do not list
