"""Training throughput of a config on synthetic data (forward + backward + AdamW step).

    python -m train.bench --config train/configs/face64.json --batch 32 --threads 1
    python -m train.bench --config train/configs/photo64-cpu.json --bf16 --channels-last

Prints parameters and images/s; data loading is excluded (it is a cached gather). --bf16
runs the forward pass under bfloat16 autocast (on the CPU too: AVX-512 BF16 machines), and
--channels-last stores the model and batch NHWC; a mode the installed PyTorch cannot run
is reported as {"error": ...} rather than a speed.
"""

import argparse
import json
import os
import sys
import time

import torch

from . import config as config_mod
from .net import UNet, param_count
from .train import loss_fn


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--steps", type=int, default=5, help="timed steps (after one warm-up step)")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast for the forward pass")
    p.add_argument("--channels-last", action="store_true", help="NHWC memory format")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    cfg = config_mod.load(a.config)
    device = torch.device("cpu")
    model = UNet(cfg)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    gen, r = torch.Generator().manual_seed(0), cfg["resolution"]
    x0 = (torch.rand(a.batch, cfg["in_channels"], r, r, generator=gen) * 2 - 1).contiguous(memory_format=fmt)
    out = {"config": os.path.basename(a.config), "params": param_count(model), "batch": a.batch,
           "threads": a.threads, "bf16": a.bf16, "channels_last": a.channels_last}
    times = []
    try:
        for _ in range(a.steps + 1):
            t = time.perf_counter()
            loss = loss_fn(model, x0, gen, gen, device, autocast=a.bf16)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t)
    except RuntimeError as e:  # e.g. PyTorch 1.13's CPU GroupNorm has no bfloat16 kernel
        out["error"] = str(e).splitlines()[0]
        print(json.dumps(out))
        return
    step_s = sorted(times[1:])[len(times[1:]) // 2]  # median: robust to other load on shared cores
    out.update(step_s=round(step_s, 3), images_per_s=round(a.batch / step_s, 1))
    print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
