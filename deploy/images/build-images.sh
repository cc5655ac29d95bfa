#!/usr/bin/env bash
# Builds every unclip image tar: the stage services, the gateway and unclip/models
# (<module>/target/jib-image.tar), and with --gpu also the stage services' GPU images
# (<module>/target/jib-image-gpu.tar; a second build: the app then holds onnxruntime_gpu).
#
#   deploy/images/build-images.sh [--gpu] [--local-base] [extra mvn arguments, e.g. -o]
#
# --local-base builds on ~/.cache/unclip/base-image.tar (deploy/images/make-local-base.sh)
# instead of eclipse-temurin:17-jre from a registry, for checking on machines without one; the
# GPU images then get it too (no CUDA in it: ONNX Runtime falls back to the CPU, with a log line).
# After --gpu, the stage services' target/quarkus-app hold the GPU jar (it runs on CPUs as well).
set -euo pipefail
cd "$(dirname "$0")/../.."
gpu=false
args=()
for a in "$@"; do
  case "$a" in
    --gpu) gpu=true ;;
    --local-base)
      base=${UNCLIP_LOCAL_BASE:-${XDG_CACHE_HOME:-$HOME/.cache}/unclip/base-image.tar}
      [ -f "$base" ] || deploy/images/make-local-base.sh "$base"
      args+=("-Dunclip.image.cpu-base=tar://$base" "-Dunclip.image.gpu-base=tar://$base") ;;
    *) args+=("$a") ;;
  esac
done
stages=text-encoder-svc,prior-svc,decoder-svc,upsampler-svc,captioner-svc
mvn -B -Pimages package -DskipTests -pl "$stages,gateway,models" -am "${args[@]}"
if $gpu; then
  mvn -B -Pimages,gpu package -DskipTests -pl "$stages" -am "${args[@]}"
fi
ls -l */target/jib-image*.tar
