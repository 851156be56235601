#!/usr/bin/env bash
# The GPU timings of docs/PERFORMANCE.md on a device machine, in one run, from the repo root:
#   gpu/device.sh            # on the device: everything below, results under $OUT
#   gpu/device.sh --build    # here, first: builds what the device cannot (it has no Go)
# Carry bin/ (bin/conjure, bin/gpu.test) and .gl/ (the Vulkan loader's .debs; README
# "Device machines"). Each command has its own time limit, so a slow or hung one costs
# at most that; the whole run takes a few minutes on an H100/H200.
#
# $OUT gets: device-bench.log (every command and its output), nvidia-smi.txt, and one
# JSON file per measurement:
#   frame-photo.json, frame-face64.json   conjure bench --backend gpu --repeat 10 --json
#                                         (one 64×64 frame: the ≤ 50 ms 5-step target)
#   tiled-2048.json                       conjure bench --backend gpu --size 2048x2048
#                                         (512² → 2048² 4× SR: the ≤ 5 s target)
#   tiled-256.json                        --size 256x256 on cpu,gpu (the lavapipe comparison)
#   conv.txt                              go test -bench BenchmarkConv3x3 (the test binary)
#   torch-2048.json                       python -m train.bench_tiles, eager/compile × fp32/bf16
#
# Knobs (environment): OUT (required), PYTHON (default python3), CONJURE_SIZE (the big
# image, default 2048x2048), CONJURE_STEPS (default 5), CONJURE_REPEAT (runs of the frame
# benches, default 10), CONJURE_LIMIT_S (seconds per command, default 240), CONJURE_VULKAN
# (1/0: set up the carried loader, default 1), CONJURE_GPU_MIB (the big image's --gpu-mib,
# default 49152: all 1,849 tiles of a 2048² image in one batch, 44 GB, so no batch is
# evaluated twice a step; an H100/H200 has 80–141 GB).
# Test here, on lavapipe: gpu/device.sh --build && CONJURE_VULKAN=0 CONJURE_SIZE=128x128 \
#   CONJURE_STEPS=1 CONJURE_REPEAT=1 CONJURE_LIMIT_S=600 PYTHON=/usr/bin/python3 OUT=/tmp/o gpu/device.sh
set -uo pipefail
cd "$(dirname "$0")/.."

die() { echo "device.sh: error: $*" >&2; exit 2; }

if [[ ${1:-} == --build ]]; then
    set -e
    mkdir -p bin
    # Stripped (-s -w): the carried tree, binaries included, must fit 64 MiB.
    go build -ldflags='-s -w' -o bin/conjure ./cmd/conjure
    go test -c -ldflags='-s -w' -o bin/gpu.test ./gpu
    ls -l bin/conjure bin/gpu.test
    exit 0
fi
[[ $# -eq 0 ]] || die "usage: gpu/device.sh (on the device) or gpu/device.sh --build (here)"
[[ -n ${OUT:-} ]] || die "OUT is not set: the device tool sets it to the folder that comes back"
[[ -x bin/conjure && -x bin/gpu.test ]] || die "no bin/conjure or bin/gpu.test: run gpu/device.sh --build here and carry bin"
mkdir -p "$OUT"
PY=${PYTHON:-python3}
SIZE=${CONJURE_SIZE:-2048x2048}
STEPS=${CONJURE_STEPS:-5}
LIMIT=${CONJURE_LIMIT_S:-240}
REPEAT=${CONJURE_REPEAT:-10}
GPU_MIB=${CONJURE_GPU_MIB:-49152}
LOG=$OUT/device-bench.log

if [[ ${CONJURE_VULKAN:-1} == 1 ]]; then
    shopt -s nullglob
    debs=(.gl/*.deb)
    shopt -u nullglob
    [[ ${#debs[@]} -gt 0 ]] || die "no .gl/*.deb: download the Vulkan loader here (README \"Device machines\") and carry .gl"
    for f in "${debs[@]}"; do dpkg -x "$f" /; done
    ldconfig
    export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
fi

# run NAME OUTFILE CMD…: runs CMD under the time limit, its stdout to OUTFILE, everything
# logged; a failure is logged and the run goes on to the next measurement.
failed=0
run() {
    local name=$1 out=$2; shift 2
    echo "== $name: $* (limit ${LIMIT}s)" | tee -a "$LOG"
    local t0=$SECONDS
    timeout "$LIMIT" "$@" > "$out" 2> >(tee -a "$LOG" >&2)
    local rc=$?
    echo "== $name: exit $rc after $((SECONDS - t0)) s" | tee -a "$LOG"
    tail -c 4000 "$out" >> "$LOG"
    [[ $rc -eq 0 ]] || failed=$((failed + 1))
}

{ nvidia-smi || echo "no nvidia-smi"; } > "$OUT/nvidia-smi.txt" 2>&1
run frame-photo "$OUT/frame-photo.json" bin/conjure bench --backend gpu --model photo --repeat "$REPEAT" --json
run frame-face64 "$OUT/frame-face64.json" bin/conjure bench --backend gpu --model face64 --repeat "$REPEAT" --json
run tiled-big "$OUT/tiled-${SIZE%%x*}.json" bin/conjure bench --backend gpu --size "$SIZE" --steps "$STEPS" --repeat 1 \
    --gpu-mib "$GPU_MIB" --json
run tiled-256 "$OUT/tiled-256.json" bin/conjure bench --backend cpu,gpu --size 256x256 --steps "$STEPS" --repeat 1 --json
run conv "$OUT/conv.txt" bin/gpu.test -test.run XXX -test.bench BenchmarkConv3x3 -test.benchtime 20x
run torch "$OUT/torch-${SIZE%%x*}.json" "$PY" -m train.bench_tiles --ckpt train/checkpoints/photo64-cpu.pt \
    --size "$SIZE" --steps "$STEPS"
echo "device.sh: done, $failed measurement(s) failed" | tee -a "$LOG"
[[ $failed -eq 0 ]]
