"""Export a checkpoint's EMA weights as a NETWORK.md weight file (int8 by default).

    python -m train.export --ckpt train/runs/face64 --out models/face64-int8.safetensors
    python -m train.export --ckpt train/runs/face64 --out models/face64-f32.safetensors --f32
"""

import argparse
import os

import torch

from . import checkpoint, weights


def export(ckpt, out, int8=True):
    """Write the weight file; returns (bytes written, parameter count)."""
    ck = checkpoint.load(ckpt)
    state = {k: v.float() for k, v in ck["ema"].items()}
    size = weights.save(out, state, ck["config"], int8, {
        "images_seen": ck["images_seen"], "steps": ck["step"], "torch": torch.__version__,
        "elapsed_s": round(ck["elapsed"], 1), "weights": "ema"})
    return size, sum(v.numel() for v in state.values())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True, help="run directory or checkpoint.pt")
    p.add_argument("--out", required=True, help="output .safetensors path")
    p.add_argument("--f32", action="store_true", help="float32 weights instead of int8")
    a = p.parse_args(argv)
    if os.path.dirname(a.out):
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
    size, n = export(a.ckpt, a.out, int8=not a.f32)
    print(f"{a.out}: {size:,} bytes ({size / 2**20:.2f} MiB), {n:,} parameters, "
          f"{weights.FORMAT_F32 if a.f32 else weights.FORMAT_INT8}")


if __name__ == "__main__":
    main()
