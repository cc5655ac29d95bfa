#!/usr/bin/env bash
# Retrains the whole Shapes-World demo bundle from scratch with fixed seeds, exports it to $D/bundle and prints each
# stage's loss-curve summary and wall time. Runs on 2 CPU cores (hours: see models/bundle/README.md for the figures);
# re-running resumes every stage from its checkpoint. Checkpoints, data and logs go to $UNCLIP_TRAIN_DIR (default
# /root/unclip-train), outside git.
#
#   models/training/train_all.sh
#
# Step budgets default to the shipped bundle's (override with the variables below, e.g. DECODER_V_STEPS=20000).
# CLIP runs in four phases (contrastive; hard negatives on the text tower; hard negatives on both towers with the
# image space anchored; the same unanchored). Then two lanes of one thread each, on the anchored (phase-3) CLIP:
# lane A = decoder (epsilon phase, v-prediction phase warm-started from it, then 70% two-object batches, then also
# relational captions weighted up); lane B = prior (then relational captions weighted up, then also 70% two-object
# batches), upsampler 32->128, upsampler 128->512, captioner (dataset captions, then reading-order fine-tune).
# Then decoder and prior (again one lane each) move to the unanchored CLIP, whose image space carries the layout of
# two objects; last, the decoder cools down at lr 2e-4 on both threads. Per-step randomness is seeded by (stage seed, step), so an interrupted run continues identically.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export UNCLIP_TRAIN_DIR=${UNCLIP_TRAIN_DIR:-/root/unclip-train}
D=$UNCLIP_TRAIN_DIR
PY=${PYTHON:-/usr/bin/python3}   # Debian's python3-torch (1.13) + python3-onnx

CLIP_STEPS=${CLIP_STEPS:-800}
CLIP_NEG_STEPS=${CLIP_NEG_STEPS:-1500}         # hard negatives, text tower only
CLIP_JOINT_STEPS=${CLIP_JOINT_STEPS:-1500}     # hard negatives, both towers, image space anchored
CLIP_FREE_STEPS=${CLIP_FREE_STEPS:-1500}       # hard negatives, both towers, unanchored
DECODER_EPS_STEPS=${DECODER_EPS_STEPS:-2480}
DECODER_V_STEPS=${DECODER_V_STEPS:-14840}
DECODER_TWO_STEPS=${DECODER_TWO_STEPS:-7501}   # then 70% two-object scenes per batch
DECODER_REL_STEPS=${DECODER_REL_STEPS:-2976}   # then also relational captions weighted 4x
DECODER_FREE_STEPS=${DECODER_FREE_STEPS:-5523}  # then on the unanchored CLIP
DECODER_COOL_STEPS=${DECODER_COOL_STEPS:-3079}  # then at lr 2e-4 (cool-down)
PRIOR_STEPS=${PRIOR_STEPS:-2891}
PRIOR_REL_STEPS=${PRIOR_REL_STEPS:-2000}       # then relational captions weighted 4x
PRIOR_TWO_STEPS=${PRIOR_TWO_STEPS:-8708}       # then also 70% two-object scenes per batch
PRIOR_FREE_STEPS=${PRIOR_FREE_STEPS:-6935}      # then on the unanchored CLIP
UPSAMPLER_128_STEPS=${UPSAMPLER_128_STEPS:-559}
UPSAMPLER_512_STEPS=${UPSAMPLER_512_STEPS:-695}
CAPTIONER_STEPS=${CAPTIONER_STEPS:-1755}       # of a 2200-step cosine schedule
CAPTIONER_CANON_STEPS=${CAPTIONER_CANON_STEPS:-332}  # of a 700-step cosine schedule

mkdir -p "$D/logs" "$D/data" "$D/ckpt"
if ! update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep -q '^Value:.*openblas'; then
  echo "WARNING: torch is using the reference BLAS (matmul ~17x slower). Install OpenBLAS first:" >&2
  echo "         apt-get install -y libopenblas0-openmp" >&2
fi

# stage NAME LOG CMD...: runs one training stage, appending to its log, and says how long it took
stage() {
  local name=$1 log=$2; shift 2
  local t0=$SECONDS
  echo "[$(date +%T)] $name: start (log $log)"
  "$@" >> "$log" 2>&1 || { echo "$name FAILED: see $log" >&2; return 1; }
  echo "[$(date +%T)] $name: done in $(( (SECONDS - t0) / 60 )) min"
}

# ---- data (Java shapes-world generator) --------------------------------------------------------------------------
JAR="$REPO/shapes-world/target/shapes-world-0.1.0-SNAPSHOT.jar"
[ -f "$JAR" ] || (cd "$REPO" && mvn -B -q -ntp -pl shapes-world -am package -DskipTests)
gen() {  # gen DIR COUNT SEED SIZES FORMATS
  [ -f "$D/data/$1/dataset.json" ] || stage "data $1" "$D/logs/datagen.log" \
    java -jar "$JAR" --out "$D/data/$1" --count "$2" --seed "$3" --sizes "$4" --format "$5" --threads 2
}
gen train-s1-200k 200000 1 32 npy
gen val-s2-2k 2000 2 32,128 npy,png
gen up-s3-3k 3000 3 32,128,512 npy
gen upval-s4-64 64 4 32,128,512 npy,png

# ---- mini-CLIP (both cores) -----------------------------------------------------------------------------------------
[ -f "$D/ckpt/clip/final.pt" ] || stage clip "$D/logs/clip.log" "$PY" "$HERE/train_clip.py" --steps "$CLIP_STEPS"
# phases 2 and 3: compositional hard negatives (hard_negatives.py) teach binding and relations, first to the text
# tower alone, then to both towers with the image embedding anchored to phase 1's (little drift for later stages)
[ -f "$D/ckpt/clip_neg/final.pt" ] || stage "clip (hard negatives, text)" "$D/logs/clip_neg.log" "$PY" \
  "$HERE/train_clip.py" --init "$D/ckpt/clip/final.pt" --out "$D/ckpt/clip_neg" --hard-negatives --freeze-image \
  --steps "$CLIP_NEG_STEPS" --lr 3e-4 --warmup 100
[ -f "$D/ckpt/clip_joint/final.pt" ] || stage "clip (hard negatives, both)" "$D/logs/clip_joint.log" "$PY" \
  "$HERE/train_clip.py" --init "$D/ckpt/clip_neg/final.pt" --out "$D/ckpt/clip_joint" --hard-negatives --anchor 5 \
  --steps "$CLIP_JOINT_STEPS" --lr 3e-4 --warmup 100 --threads 1
# phase 4: the same without the anchor. The image tower is then free to encode which object is where (the anchored
# space held relations faintly: decoded from true embeddings, two-object relation 0.67); decoder and prior follow it
# at the end, warm-started from their phase-3 runs
[ -f "$D/ckpt/clip_free/final.pt" ] || stage "clip (hard negatives, unanchored)" "$D/logs/clip_free.log" "$PY" \
  "$HERE/train_clip.py" --init "$D/ckpt/clip_joint/final.pt" --out "$D/ckpt/clip_free" --hard-negatives \
  --steps "$CLIP_FREE_STEPS" --lr 3e-4 --warmup 100 --seed 11
CLIP="$D/ckpt/clip_joint/final.pt"
CLIP_FREE="$D/ckpt/clip_free/final.pt"

# ---- lane A: decoder ------------------------------------------------------------------------------------------------
lane_a() {
  stage "decoder (epsilon)" "$D/logs/decoder.log" "$PY" "$HERE/train_decoder.py" --clip "$CLIP" --prediction epsilon \
    --steps "$DECODER_EPS_STEPS"
  stage "decoder (v)" "$D/logs/decoder_v.log" "$PY" "$HERE/train_decoder.py" --clip "$CLIP" --prediction v \
    --out "$D/ckpt/decoder_v" --init "$D/ckpt/decoder/last.pt" --steps "$DECODER_V_STEPS"
  stage "decoder (two-object)" "$D/logs/decoder_two.log" "$PY" "$HERE/train_decoder.py" --clip "$CLIP" \
    --prediction v --out "$D/ckpt/decoder_two" --init "$D/ckpt/decoder_v/last.pt" --two-object-fraction 0.7 \
    --steps "$DECODER_TWO_STEPS"
  stage "decoder (relations)" "$D/logs/decoder_rel.log" "$PY" "$HERE/train_decoder.py" --clip "$CLIP" \
    --prediction v --out "$D/ckpt/decoder_rel" --init "$D/ckpt/decoder_two/last.pt" --two-object-fraction 0.7 \
    --style-weights 1,1,4 --seed 5 --steps "$DECODER_REL_STEPS"
}
lane_a &
LANE_A=$!

# ---- lane B: prior, upsamplers, captioner --------------------------------------------------------------------------
stage prior "$D/logs/prior.log" "$PY" "$HERE/train_prior.py" --clip "$CLIP" --steps "$PRIOR_STEPS"
stage "prior (relations)" "$D/logs/prior_rel.log" "$PY" "$HERE/train_prior.py" --clip "$CLIP" \
  --init "$D/ckpt/prior/last.pt" --out "$D/ckpt/prior_rel" --style-weights 1,1,4 --steps "$PRIOR_REL_STEPS"
stage "prior (two-object)" "$D/logs/prior_two.log" "$PY" "$HERE/train_prior.py" --clip "$CLIP" \
  --init "$D/ckpt/prior_rel/last.pt" --out "$D/ckpt/prior_two" --style-weights 1,1,4 --two-object-fraction 0.7 \
  --steps "$PRIOR_TWO_STEPS"
stage "upsampler 32->128" "$D/logs/upsampler_128.log" "$PY" "$HERE/train_upsampler.py" --stage 128 \
  --steps "$UPSAMPLER_128_STEPS"
stage "upsampler 128->512" "$D/logs/upsampler_512.log" "$PY" "$HERE/train_upsampler.py" --stage 512 \
  --steps "$UPSAMPLER_512_STEPS"
stage captioner "$D/logs/captioner.log" "$PY" "$HERE/train_captioner.py" --steps 2200 --stop-at "$CAPTIONER_STEPS" \
  --batch 32 --eval-every 550 --eval-n 200
stage "captioner (reading order)" "$D/logs/captioner_canon.log" "$PY" "$HERE/train_captioner.py" --canonical \
  --init "$D/ckpt/captioner/last.pt" --out "$D/ckpt/captioner_canon" --steps 700 --stop-at "$CAPTIONER_CANON_STEPS" \
  --lr 5e-4 --warmup 50 --ema 0.998 --eval-every 350 --eval-n 200

wait "$LANE_A"

# ---- decoder and prior on the unanchored CLIP (one lane each) -------------------------------------------------------
stage "decoder (unanchored CLIP)" "$D/logs/decoder_free.log" "$PY" "$HERE/train_decoder.py" --clip "$CLIP_FREE" \
  --prediction v --out "$D/ckpt/decoder_free" --init "$D/ckpt/decoder_rel/last.pt" --two-object-fraction 0.7 \
  --style-weights 1,1,4 --seed 7 --warmup 200 --ema 0.999 --steps "$DECODER_FREE_STEPS" &
LANE_A=$!
stage "prior (unanchored CLIP)" "$D/logs/prior_free.log" "$PY" "$HERE/train_prior.py" --clip "$CLIP_FREE" \
  --init "$D/ckpt/prior_two/last.pt" --out "$D/ckpt/prior_free" --style-weights 1,1,4 --two-object-fraction 0.7 \
  --warmup 200 --seed 13 --steps "$PRIOR_FREE_STEPS"
wait "$LANE_A"
stage "decoder (cool-down, lr 2e-4)" "$D/logs/decoder_cool.log" "$PY" "$HERE/train_decoder.py" --clip "$CLIP_FREE" \
  --prediction v --out "$D/ckpt/decoder_cool" --init "$D/ckpt/decoder_free/last.pt" --two-object-fraction 0.7 \
  --style-weights 1,1,4 --seed 17 --warmup 100 --lr 2e-4 --ema 0.999 --steps "$DECODER_COOL_STEPS" --threads 2

# ---- export + summary -----------------------------------------------------------------------------------------------
stage export "$D/logs/export.log" "$PY" "$HERE/export_onnx.py" --out "$D/bundle" --clip "$CLIP_FREE" \
  --prior "$D/ckpt/prior_free/last.pt" --prior-stats "$D/ckpt/prior_free/embed_norm.json" \
  --decoder "$D/ckpt/decoder_cool/last.pt" \
  --decoder-history "phases of $DECODER_EPS_STEPS epsilon + $DECODER_V_STEPS v + $DECODER_TWO_STEPS v + $DECODER_REL_STEPS v + $DECODER_FREE_STEPS v + $DECODER_COOL_STEPS v steps: the last four with 70% two-object batches, the last three with relational captions 4x, the last two on the unanchored CLIP, the last one at lr 2e-4"
stage "export (extra)" "$D/logs/export.log" "$PY" "$HERE/export_extra.py" --out "$D/bundle" --clip "$CLIP_FREE" \
  --captioner "$D/ckpt/captioner_canon/last.pt" --respacing-128 3 --respacing-512 3
echo
echo "loss curves and wall time per stage:"
"$PY" "$HERE/summarize.py" --ckpt "$D/ckpt"   # every stage, in training order (summarize.STAGES)
echo
echo "bundle: $D/bundle. Check and measure it:"
echo "  ./unclip models check $D/bundle"
echo "  ./unclip eval --models $D/bundle --count 40 --size 128 -n 2"
