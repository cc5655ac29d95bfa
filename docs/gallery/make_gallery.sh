#!/usr/bin/env bash
# Regenerates the README gallery from the shipped bundle with the commands listed in docs/gallery/README.md.
# Every image is reproducible: same bundle + same command = same bytes.
#   docs/gallery/make_gallery.sh [--models DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
G="$ROOT/docs/gallery"
U="$ROOT/unclip"
M=("$@")
cd "$ROOT"

gen() {  # gen FILE PROMPT [options...]
  local out=$1 prompt=$2; shift 2
  "$U" generate "$prompt" "${M[@]}" "$@" -o "$G/$out" > /dev/null
}

gen red-circle-top-left.png "a small red circle at the top left on a white background" --size 128 --seed 1
gen blue-square-center.png "a large blue square at the center on a black background" --size 128 --seed 2
gen green-triangle-bottom-right.png "a small green triangle at the bottom right on a gray background" --size 128 --seed 3
gen yellow-diamond-left.png "a large yellow diamond at the left on a white background" --size 128 --seed 4
gen red-above-blue.png "a red circle above a blue square" --size 128 --seed 5
gen purple-left-of-orange.png "a purple triangle to the left of a orange circle" --size 128 --seed 6
gen pink-circle-512.png "a large pink circle at the center on a gray background" --size 512 --seed 7
"$U" variations "$G/red-circle-top-left.png" "${M[@]}" -n 3 --size 128 --seed 8 -o "$G/variation.png" > /dev/null
"$U" interpolate "$G/red-circle-top-left.png" "$G/blue-square-center.png" "${M[@]}" --frames 5 --size 128 \
  --seed 9 -o "$G/interpolation.png" > /dev/null
"$U" caption "$G/red-circle-top-left.png" "${M[@]}" --style descriptive > "$G/red-circle-top-left.caption.txt"
echo "gallery written to $G"
