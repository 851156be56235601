#!/usr/bin/env bash
# One GPU training run on a device machine, from the repo root, writing what comes back to $OUT:
#   train/device.sh face64 10     # resume train/checkpoints/face64-cpu.pt on UTKFace 64²
#   train/device.sh photo 10      # the photo prior on crops of whole photos (--crops)
#   train/device.sh --plan photo  # here: what must be carried, and whether it fits 64 MiB
# MINUTES is the whole command's wall-clock budget: the training loop gets MINUTES minus
# CONJURE_MARGIN (compile happens inside the loop's budget), and a hard stop (SIGTERM, which
# train.train answers by saving) keeps MINUTES·60 − CONJURE_POST_S seconds for the rest.
#
# Data (carried, git-ignored under train/runs/packed/; see README "Training the network"):
#   face64: utkface-train-r64.tar.gz + utkface-val-r64.tar.gz
#           (python3 -m train.pack --resolution 64 --split train --quality 85 --out train/runs/packed;
#            python3 -m train.pack --resolution 64 --split val --limit 256 --out train/runs/packed)
#   photo:  photos-train-s<S>.tar.gz + photos-val-s<S>.tar.gz
#           (python3 -m train.pack --photos --split train|val --out train/runs/packed)
# Checkpoint: resumes train/checkpoints/<face64|photo64>-cpu.pt when it exists (the run keeps
# its config), else starts from train/configs/<face64|photo64>-cpu.json.
#
# $OUT gets (at most 8 files, each under 16 MiB): device.log (all output), nvidia-smi.txt,
# log.csv, model-int8.safetensors, eval.json (train.evaluate's JSON), and the final
# checkpoint: checkpoint.pt if it is at most CONJURE_PART_BYTES, else split into
# checkpoint.pt.part0, .part1, … (at most 3), which `cat checkpoint.pt.part* > checkpoint.pt`
# joins back into the exact file. Should even 3 parts not hold it, the optimizer's moments
# are dropped (compact checkpoint; --resume restarts them from zero) and device.log says so.
#
# Knobs (environment):
#   OUT               output folder (set by the device tool; required)
#   PYTHON            interpreter (default python3)
#   CONJURE_DEVICE    cuda (default; fails without CUDA) or cpu (tests)
#   CONJURE_COMPILE   1/0: torch.compile (default 1 on cuda, 0 on cpu)
#   CONJURE_PACKED    folder of the packed data (default train/runs/packed)
#   CONJURE_DATA      training data file (default: found in CONJURE_PACKED)
#   CONJURE_VAL       validation data file (default: the training file's -val- twin)
#   CONJURE_RESUME    checkpoint to resume (a file, or X with X.part0… present), or none
#   CONJURE_CONFIG    config of a fresh run (implies a fresh run unless CONJURE_RESUME is set)
#   CONJURE_BATCH     batch size (default 256)
#   CONJURE_MARGIN    minutes of MINUTES kept out of the training loop (default 2)
#   CONJURE_POST_S    seconds kept after the hard stop for export and evaluation (default 60)
#   CONJURE_EXTRA     more train.train arguments, e.g. "--max-steps 3 --batch 4 --threads 1"
#   CONJURE_EVAL_EXTRA  more train.evaluate arguments, e.g. "--threads 1"
#   CONJURE_PART_BYTES  largest file returned (default 15 MiB)
# CPU test: CONJURE_DEVICE=cpu CONJURE_CONFIG=train/configs/tiny.json \
#   CONJURE_EXTRA="--max-steps 3 --batch 4 --threads 1" OUT=/tmp/o train/device.sh face64 3
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "device.sh: error: $*" >&2; exit 2; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

PY=${PYTHON:-python3}
PACKED=${CONJURE_PACKED:-train/runs/packed}

PLAN=0
if [[ ${1:-} == --plan ]]; then PLAN=1; shift; fi
[[ $# -eq 2 || ( $PLAN == 1 && $# -ge 1 ) ]] || die "usage: train/device.sh face64|photo MINUTES (or --plan face64|photo)"
NAME=$1
MINUTES=${2:-0}

case $NAME in
    face64)
        CROPS=(); TRAIN_GLOB="utkface-train-r64.tar.gz"
        PACK_HINT="python3 -m train.pack --resolution 64 --split train --quality 85 --out $PACKED; python3 -m train.pack --resolution 64 --split val --limit 256 --out $PACKED"
        DEFAULT_CKPT=train/checkpoints/face64-cpu.pt; DEFAULT_CONFIG=train/configs/face64-cpu.json ;;
    photo|photo64)
        CROPS=(--crops); TRAIN_GLOB="photos-train-*.tar.gz"
        PACK_HINT="python3 -m train.pack --photos --split train --out $PACKED; python3 -m train.pack --photos --split val --out $PACKED"
        DEFAULT_CKPT=train/checkpoints/photo64-cpu.pt; DEFAULT_CONFIG=train/configs/photo64-cpu.json ;;
    *) die "unknown model '$NAME' (face64 or photo)" ;;
esac

# --- data --------------------------------------------------------------------------------
if [[ -n ${CONJURE_DATA:-} ]]; then
    TRAIN_DATA=$CONJURE_DATA
else
    shopt -s nullglob
    found=("$PACKED"/$TRAIN_GLOB)
    shopt -u nullglob
    [[ ${#found[@]} -gt 0 ]] || die "no packed training data $PACKED/$TRAIN_GLOB: pack it here ($PACK_HINT) and carry it"
    [[ ${#found[@]} -eq 1 ]] || die "several packed training files match $PACKED/$TRAIN_GLOB (${found[*]}): keep one or set CONJURE_DATA"
    TRAIN_DATA=${found[0]}
fi
base=$(basename "$TRAIN_DATA")
VAL_DATA=${CONJURE_VAL:-$(dirname "$TRAIN_DATA")/${base/-train-/-val-}}
[[ -f $TRAIN_DATA ]] || die "training data $TRAIN_DATA is missing: pack it ($PACK_HINT) and carry it"
[[ -f $VAL_DATA ]] || die "validation data $VAL_DATA is missing: pack it ($PACK_HINT) and carry it"

# --- checkpoint and config ---------------------------------------------------------------
RESUME=""
if [[ -n ${CONJURE_RESUME:-} ]]; then
    [[ $CONJURE_RESUME == none ]] || RESUME=$CONJURE_RESUME
    [[ -z $RESUME || -f $RESUME || -f $RESUME.part0 ]] || die "CONJURE_RESUME=$RESUME: no such checkpoint (nor $RESUME.part0)"
elif [[ -z ${CONJURE_CONFIG:-} && -f $DEFAULT_CKPT ]]; then
    RESUME=$DEFAULT_CKPT
fi
CONFIG=${CONJURE_CONFIG:-}
[[ -n $RESUME || -n $CONFIG ]] || CONFIG=$DEFAULT_CONFIG
[[ -z $CONFIG || -f $CONFIG ]] || die "config $CONFIG is missing"

if [[ $PLAN == 1 ]]; then
    carry=("$TRAIN_DATA" "$VAL_DATA")
    ignored() { git check-ignore -q "$1"; }
    if [[ -n $RESUME ]] && ignored "$RESUME"; then carry+=("$RESUME"); fi
    tree=$(git ls-files -z --cached --others --exclude-standard | "$PY" -c '
import os, sys
print(sum(os.path.getsize(p) for p in sys.stdin.read().split("\0") if p and os.path.isfile(p)))')
    carried=$(stat -c %s "${carry[@]}" | awk '{ s += $1 } END { print s }')
    total=$((tree + carried))
    echo "tree (tracked + untracked, not ignored): $(mib "$tree")"
    for f in "${carry[@]}"; do echo "carry $f: $(mib "$(stat -c %s "$f")")"; done
    echo "total: $(mib "$total") of 64 MiB ($(mib $((64 * 1048576 - total))) left)"
    echo "resume: ${RESUME:-none (fresh from $CONFIG)}"
    printf 'run: carry=['; printf '"%s",' "${carry[@]}" | sed 's/,$//'; printf '] command="train/device.sh %s %s" timeout_s=600\n' "$NAME" "${2:-10}"
    [[ $total -le $((64 * 1048576)) ]] || die "over the 64 MiB the device tool carries"
    exit 0
fi

[[ -n ${OUT:-} ]] || die "OUT is not set (the device tool sets it; locally: OUT=/tmp/out train/device.sh …)"
[[ $MINUTES =~ ^[0-9]+([.][0-9]+)?$ ]] || die "MINUTES must be a number, got '$MINUTES'"
DEVICE=${CONJURE_DEVICE:-cuda}
case $DEVICE in cuda) COMPILE=${CONJURE_COMPILE:-1} ;; cpu) COMPILE=${CONJURE_COMPILE:-0} ;; *) die "CONJURE_DEVICE must be cuda or cpu" ;; esac
MARGIN=${CONJURE_MARGIN:-2}
POST_S=${CONJURE_POST_S:-60}
PART_BYTES=${CONJURE_PART_BYTES:-$((15 * 1048576))}
MAX_PARTS=3
TRAIN_MIN=$(awk -v m="$MINUTES" -v g="$MARGIN" 'BEGIN { print m - g }')
awk -v t="$TRAIN_MIN" 'BEGIN { exit !(t > 0) }' || die "MINUTES ($MINUTES) must exceed CONJURE_MARGIN ($MARGIN)"
read -r -a EXTRA <<< "${CONJURE_EXTRA:-}"
read -r -a EVAL_EXTRA <<< "${CONJURE_EVAL_EXTRA:-}"
export PYTHONUNBUFFERED=1

mkdir -p "$OUT"
exec 3>&1 4>&2
exec > >(tee -a "$OUT/device.log") 2>&1
TEE_PID=$!
WORK=$(mktemp -d "${TMPDIR:-/tmp}/conjure-device.XXXXXX")
RUN=$WORK/run
mkdir -p "$RUN"
SMI_PID=""
COLLECTED=0

collect() {  # copy what exists to $OUT; idempotent, also run on failure
    [[ $COLLECTED == 0 ]] || return 0
    COLLECTED=1
    [[ -f $RUN/log.csv ]] && cp "$RUN/log.csv" "$OUT/log.csv"
    local ck=$RUN/checkpoint.pt
    [[ -f $ck ]] || { echo "device.sh: no checkpoint to return"; return 0; }
    local size
    size=$(stat -c %s "$ck")
    if (( size > PART_BYTES * MAX_PARTS )); then
        echo "device.sh: checkpoint $(mib "$size") needs more than $MAX_PARTS parts: returning it without the optimizer's moments (--resume restarts them from zero)"
        "$PY" - "$ck" "$WORK/compact.pt" <<'EOF'
import sys
from train import checkpoint
ck = checkpoint.load(sys.argv[1])
ck["opt"]["state"] = {}  # param_groups stay, so Optimizer.load_state_dict accepts it
ck["compact"] = "optimizer moments dropped by train/device.sh"
checkpoint.save(sys.argv[2], ck)
EOF
        ck=$WORK/compact.pt
        size=$(stat -c %s "$ck")
        if (( size > PART_BYTES * MAX_PARTS )); then
            echo "device.sh: error: even the compact checkpoint is $(mib "$size"): not returned (the weight file is)"
            return 0
        fi
    fi
    echo "checkpoint: $(mib "$size"), sha256 $(sha256sum "$ck" | cut -d' ' -f1)"
    if (( size <= PART_BYTES )); then
        cp "$ck" "$OUT/checkpoint.pt"
    else
        split -b "$PART_BYTES" -d -a 1 "$ck" "$OUT/checkpoint.pt.part"
        echo "checkpoint returned as $(cd "$OUT" && echo checkpoint.pt.part*); join: cat checkpoint.pt.part* > checkpoint.pt"
    fi
}

finish() {
    local rc=$?
    [[ -z $SMI_PID ]] || kill "$SMI_PID" 2>/dev/null || true
    collect || true
    [[ $rc == 0 ]] || echo "device.sh: FAILED (exit $rc) after ${SECONDS}s; $OUT holds what was written"
    rm -rf "$WORK"
    exec 1>&3 2>&4
    wait "$TEE_PID" 2>/dev/null || true
    exit "$rc"
}
trap finish EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

echo "device.sh $NAME $MINUTES: device $DEVICE, compile $COMPILE, train data $TRAIN_DATA ($(mib "$(stat -c %s "$TRAIN_DATA")")), val $VAL_DATA"
echo "resume: ${RESUME:-none}; config: ${CONFIG:-kept from the checkpoint}; training loop $TRAIN_MIN min; $(date -u +%FT%TZ)"

if command -v nvidia-smi >/dev/null; then
    nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || echo "device.sh: nvidia-smi failed (see nvidia-smi.txt)"
else
    echo "nvidia-smi: not available on this machine (device $DEVICE)" > "$OUT/nvidia-smi.txt"
fi
if [[ $DEVICE == cuda ]]; then
    "$PY" - <<'EOF' || die "no CUDA"
import sys, torch
if not torch.cuda.is_available():
    sys.exit(f"device.sh: error: torch {torch.__version__} sees no CUDA device "
             "(CONJURE_DEVICE=cpu runs on the CPU)")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
EOF
fi

# --- train -------------------------------------------------------------------------------
START_CKPT=""
if [[ -n $RESUME ]]; then
    if [[ -f $RESUME ]]; then
        cp "$RESUME" "$RUN/checkpoint.pt"
    else
        cat "$RESUME".part* > "$RUN/checkpoint.pt"
    fi
    START_CKPT=$WORK/start.pt
    cp "$RUN/checkpoint.pt" "$START_CKPT"
fi
args=(-m train.train --out "$RUN" --data "$TRAIN_DATA" --device "$DEVICE" --minutes "$TRAIN_MIN"
      --ckpt-minutes 2 --batch "${CONJURE_BATCH:-256}" --cache-dir "$WORK/cache")
args+=(${CROPS[@]+"${CROPS[@]}"})
[[ $COMPILE == 1 ]] && args+=(--compile)
[[ -n $RESUME ]] && args+=(--resume)
[[ -n $CONFIG ]] && args+=(--config "$CONFIG")
args+=(${EXTRA[@]+"${EXTRA[@]}"})

if [[ $DEVICE == cuda ]] && command -v nvidia-smi >/dev/null; then
    { echo; echo "# during training, every 30 s"; } >> "$OUT/nvidia-smi.txt"
    nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used,power.draw,clocks.sm \
        --format=csv -l 30 >> "$OUT/nvidia-smi.txt" 2>&1 &
    SMI_PID=$!
fi
STOP_S=$(awk -v m="$MINUTES" -v p="$POST_S" -v s="$SECONDS" 'BEGIN { printf "%d", m * 60 - p - s }')
(( STOP_S > 10 )) || die "no time left to train (MINUTES $MINUTES, CONJURE_POST_S $POST_S)"
echo "+ $PY ${args[*]}   (hard stop after ${STOP_S}s)"
T_TRAIN=$SECONDS
rc=0
timeout -s TERM -k 30 "$STOP_S" "$PY" "${args[@]}" || rc=$?
if [[ $rc == 124 && -f $RUN/checkpoint.pt ]]; then
    echo "device.sh: warning: training hit the hard stop (${STOP_S}s) and saved on SIGTERM; lower MINUTES or raise CONJURE_MARGIN"
elif [[ $rc != 0 ]]; then
    die "training failed (exit $rc)"
fi
T_TRAIN=$((SECONDS - T_TRAIN))
if [[ -n $SMI_PID ]]; then kill "$SMI_PID" 2>/dev/null || true; SMI_PID=""; fi

# --- export, evaluate, return ------------------------------------------------------------
"$PY" -m train.export --ckpt "$RUN" --out "$OUT/model-int8.safetensors"
"$PY" -m train.evaluate --ckpt "$RUN" --data "$VAL_DATA" --device "$DEVICE" --cache-dir "$WORK/cache" \
    ${CROPS[@]+"${CROPS[@]}"} ${EVAL_EXTRA[@]+"${EVAL_EXTRA[@]}"} > "$WORK/eval.json"
mv "$WORK/eval.json" "$OUT/eval.json"
collect
"$PY" - "$RUN/checkpoint.pt" "$START_CKPT" "$RUN/log.csv" "$OUT/eval.json" "$T_TRAIN" <<'EOF'
import csv, json, sys
from train import checkpoint
end_path, start_path, log_path, eval_path, train_s = sys.argv[1:]
end = checkpoint.load(end_path)
start = checkpoint.load(start_path) if start_path else {"step": 0, "images_seen": 0, "elapsed": 0.0}
with open(log_path) as f:
    rows = list(csv.DictReader(f))
with open(eval_path) as f:
    ev = json.load(f)
n = end["images_seen"] - start["images_seen"]
loop_s = end["elapsed"] - start["elapsed"]
steady = sorted(float(r["images_per_s"]) for r in rows[1:])  # the first interval holds compilation
median = steady[len(steady) // 2] if steady else float("nan")
print(f"summary: steps {start['step']} -> {end['step']}, {n:,} images seen this run "
      f"({end['images_seen']:,} in all), {n / max(loop_s, 1e-9):,.0f} images/s over the "
      f"{loop_s:.1f} s loop, compilation included (median log interval {median:,.0f}/s); "
      f"train command {train_s} s")
if rows:
    print(f"summary: final loss_ema {float(rows[-1]['loss_ema']):.4f}")
for t, f32, q in zip(ev["tau"], ev["eps_mse_f32"], ev["eps_mse_int8"]):
    print(f"summary: eps-MSE tau {t}: f32 {f32:.5f}  int8 {q:.5f}  ({ev['images']} validation images)")
EOF
echo "device.sh: done in ${SECONDS}s; $OUT:"
(cd "$OUT" && ls -l)
