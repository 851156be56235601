"""Training throughput of a config on synthetic data (forward + backward + AdamW step).

    python -m train.bench --config train/configs/face64.json --batch 32 --threads 1

Prints parameters and images/s; data loading is excluded (it is a cached gather).
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
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    cfg = config_mod.load(a.config)
    device = torch.device("cpu")
    model = UNet(cfg)  # contiguous (NCHW): channels_last measured slower on these CPUs
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    gen, r = torch.Generator().manual_seed(0), cfg["resolution"]
    x0 = torch.rand(a.batch, cfg["in_channels"], r, r, generator=gen) * 2 - 1
    times = []
    for _ in range(a.steps + 1):
        t = time.perf_counter()
        loss = loss_fn(model, x0, gen, gen, device)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
    step_s = sorted(times[1:])[len(times[1:]) // 2]  # median: robust to other load on shared cores
    print(json.dumps({"config": os.path.basename(a.config), "params": param_count(model),
                      "batch": a.batch, "threads": a.threads,
                      "step_s": round(step_s, 3), "images_per_s": round(a.batch / step_s, 1)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
