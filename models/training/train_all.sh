#!/usr/bin/env bash
# Trains the Shapes-World demo models from scratch with fixed seeds (re-running resumes every stage from its
# checkpoint). Checkpoints, data and logs go to $UNCLIP_TRAIN_DIR (default /root/unclip-train), outside git.
#   stage 0: dataset (Java shapes-world CLI): 200k scenes at 32x32 (seed 1) + 2k validation scenes (seed 2)
#   stage 1: mini-CLIP (2 threads, ~6 min on an idle 2-core machine, 20-30 min on a busy one)
#   stage 2: decoder, in the background with 1 thread (runs until killed; hours)
#   stage 3: prior, in the foreground at nice 19 with 1 thread (uses only idle CPU)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export UNCLIP_TRAIN_DIR=${UNCLIP_TRAIN_DIR:-/root/unclip-train}
D=$UNCLIP_TRAIN_DIR
PY=${PYTHON:-/usr/bin/python3}   # Debian's python3-torch (1.13) + python3-onnx
mkdir -p "$D/logs" "$D/data" "$D/ckpt"

if ! update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep -q '^Value:.*openblas'; then
  echo "WARNING: torch is using the reference BLAS (matmul ~17x slower). Install OpenBLAS first:" >&2
  echo "         apt-get install -y libopenblas0-openmp" >&2
fi

JAR="$REPO/shapes-world/target/shapes-world-0.1.0-SNAPSHOT.jar"
if [ ! -f "$D/data/train-s1-200k/dataset.json" ] || [ ! -f "$D/data/val-s2-2k/dataset.json" ]; then
  [ -f "$JAR" ] || (cd "$REPO" && mvn -B -q -pl shapes-world -am package -DskipTests)
  [ -f "$D/data/train-s1-200k/dataset.json" ] || \
    java -jar "$JAR" --out "$D/data/train-s1-200k" --count 200000 --seed 1 --sizes 32 --format npy --threads 2
  [ -f "$D/data/val-s2-2k/dataset.json" ] || \
    java -jar "$JAR" --out "$D/data/val-s2-2k" --count 2000 --seed 2 --sizes 32,128 --format npy,png --threads 2
fi

[ -f "$D/ckpt/clip/final.pt" ] || "$PY" "$HERE/train_clip.py" --steps 800 >> "$D/logs/clip.log" 2>&1

nohup "$PY" "$HERE/train_decoder.py" >> "$D/logs/decoder.log" 2>&1 &
echo "decoder: pid $! (log $D/logs/decoder.log, checkpoints $D/ckpt/decoder)"

nice -n 19 "$PY" "$HERE/train_prior.py" >> "$D/logs/prior.log" 2>&1
echo "prior done; the decoder keeps training (kill its pid to stop; re-run this script to resume)"
