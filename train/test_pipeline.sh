#!/usr/bin/env bash
# Pipeline smoke test on the tiny configs: train a few steps, export f32 and int8, write
# the golden files for Go into $1/tiny (faces, with attention) and $1/tiny-local (photo
# crops, no attention: the local prior), and self-check it all.
#   train/test_pipeline.sh [OUT_ROOT]    (default model/testdata; run from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-model/testdata}
PY=${PYTHON:-/usr/bin/python3}
RUN=$(mktemp -d)
trap 'rm -rf "$RUN"' EXIT

# One thread: deterministic results, and no OpenMP spinning against other jobs on shared cores.
"$PY" -m train.train --config train/configs/tiny.json --out "$RUN/tiny" --max-steps 40 \
    --batch 16 --limit 256 --warmup 10 --lr 1e-3 --log-every 10 --threads 1
"$PY" -m train.train --config train/configs/tiny-local.json --out "$RUN/tiny-local" --max-steps 20 \
    --crops --data ../shared/data/photos --batch 16 --limit 32 --warmup 10 --lr 1e-3 --log-every 10 --threads 1
for name in tiny tiny-local; do
    "$PY" -m train.golden --ckpt "$RUN/$name" --out-dir "$OUT/$name"
    "$PY" -m train.check_fixtures --ckpt "$RUN/$name" --dir "$OUT/$name"
done
