#!/bin/bash
# Phase 7: prior and decoder continued on the mirror-pair CLIP (ckpt/clip_mirror). Resumable: re-run to continue
# each from its last.pt. Waits for the CLIP phase to finish.
D=${UNCLIP_TRAIN_DIR:-/root/unclip-train}
cd "$(dirname "$0")"
while [ ! -f $D/ckpt/clip_mirror/final.pt ]; do sleep 20; done
nice -n 5 /usr/bin/python3 train_prior.py --clip $D/ckpt/clip_mirror/final.pt --init $D/ckpt/prior_init/last.pt \
  --out $D/ckpt/prior_mirror --style-weights 1,1,4 --two-object-fraction 0.7 --warmup 200 --seed 19 --steps 20000 \
  --save-every-s 180 >> $D/logs/prior_mirror.log 2>&1 &
nice -n 5 /usr/bin/python3 train_decoder.py --clip $D/ckpt/clip_mirror/final.pt --init $D/ckpt/decoder_init/last.pt \
  --out $D/ckpt/decoder_mirror --two-object-fraction 0.7 --style-weights 1,1,4 --lr 5e-4 --warmup 100 --ema 0.999 \
  --seed 23 --save-every-s 180 --sample-every 100000 >> $D/logs/decoder_mirror.log 2>&1 &
wait
