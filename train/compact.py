"""Shrink a training checkpoint to what continuing it needs, for committing.

    python -m train.compact --ckpt train/runs/photo64-cpu --out train/checkpoints/photo64-cpu.pt

Keeps the EMA weights, the config, the counters, the run's settings and its random
streams; drops the raw weights and the optimizer's moments (two thirds of the file).
`train.train --resume` goes on from the EMA weights with fresh moments and a new
learning-rate warm-up, so a device run's upload (64 MiB with the data) has room for it.
"""

import argparse
import os
import sys

from . import checkpoint


def compact(src, dst):
    """Write the compact form of checkpoint src to dst; returns its size in bytes."""
    ck = checkpoint.load(src)
    keep = {k: v for k, v in ck.items() if k not in ("model", "opt")}
    keep["compact"] = "EMA weights only (train/compact.py): resume restarts the optimizer"
    checkpoint.save(dst, keep)
    return os.path.getsize(dst)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True, help="run directory or checkpoint.pt")
    p.add_argument("--out", required=True, help="the compact checkpoint to write")
    a = p.parse_args(argv)
    if os.path.dirname(a.out):
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
    size = compact(checkpoint.path_of(a.ckpt), a.out)
    print(f"{a.out}: {size / 2**20:.1f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
