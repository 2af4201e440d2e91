#!/usr/bin/env bash
# The GPU smoke check (scripts/gpu-smoke.ts says what it does). Run from the repository root on a
# host with an NVIDIA GPU, after `npm ci` with ONNXRUNTIME_NODE_INSTALL=cuda12 (or the gpu image)
# and the default models pulled. Extra arguments: --vram-total-mb N --burst N --concurrency N.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nvidia-smi >/dev/null || { echo "nvidia-smi not found: this check needs an NVIDIA driver" >&2; exit 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
exec node --import tsx scripts/gpu-smoke.ts "$@"
