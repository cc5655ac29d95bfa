#!/usr/bin/env bash
# Runs the whole test suite (unit, reference, gRPC and Kafka integration tests).
set -euo pipefail
cd "$(dirname "$0")"
exec mvn -B -ntp verify "$@"
