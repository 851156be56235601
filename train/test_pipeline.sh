#!/usr/bin/env bash
# Pipeline smoke test on the tiny config: train a few steps on a few hundred images,
# export f32 and int8, write the golden file for Go into $1, and self-check it all.
#   train/test_pipeline.sh [OUT_DIR]    (default model/testdata/tiny; run from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-model/testdata/tiny}
PY=${PYTHON:-/usr/bin/python3}
RUN=$(mktemp -d)
trap 'rm -rf "$RUN"' EXIT

# One thread: deterministic results, and no OpenMP spinning against other jobs on shared cores.
"$PY" -m train.train --config train/configs/tiny.json --out "$RUN" --max-steps 40 \
    --batch 16 --limit 256 --warmup 10 --lr 1e-3 --log-every 10 --threads 1
"$PY" -m train.golden --ckpt "$RUN" --out-dir "$OUT"
"$PY" -m train.check_fixtures --ckpt "$RUN" --dir "$OUT"
