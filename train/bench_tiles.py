"""The PyTorch reference for a tiled restore's network work: ε and its VJP over every tile of
a W×H image, --steps times, as `conjure bench --size WxH` times the Go/WGSL backends.

    python -m train.bench_tiles --size 2048x2048 --steps 5 --device cuda --json
    python -m train.bench_tiles --config train/configs/tiny-local.json --size 64x48 --device cpu

One step is what one C-ΠGDM step asks of the network: for each batch of 64×64 tiles (the
grid of package tile: overlap size/4, tiles spread evenly), ε_θ(x, τ) and the VJP Jᵀv by
autograd with respect to the input only (the weights do not require gradients). Cutting
and blending the tiles is left out: it is memory traffic the network dwarfs. The weights are
random (speed does not depend on them) unless --ckpt gives a checkpoint. Each mode — eager
or torch.compile, float32 or bfloat16 autocast — runs one warm-up step (compilation), then
--steps timed steps; CUDA is synchronised before each clock reading. Prints one JSON line per
mode: ms per step and per restore, tiles/s (tile evaluations, ε with its VJP, per second)
and the network's GFLOP/s over its convolutions' arithmetic.
"""

import argparse
import json
import math
import os
import sys
import time

import torch

from . import checkpoint, config as config_mod
from .net import UNet

MODES = ("eager-fp32", "eager-bf16", "compile-fp32", "compile-bf16")


def tiles_along(n, size):
    """Tiles of package tile's grid along a side of n pixels (overlap size/4)."""
    if n <= size:
        return 1
    overlap = size // 4
    return math.ceil((n - overlap) / (size - overlap))


def conv_flops(model, res):
    """Multiply-add arithmetic (2 per MAC) of one forward pass of one tile, over the convs."""
    total = 0
    hooks = []

    def count(mod, inp, out):
        nonlocal total
        k = mod.kernel_size[0] * mod.kernel_size[1]
        total += 2 * k * mod.in_channels * mod.out_channels * out.shape[-2] * out.shape[-1]

    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(count))
    with torch.no_grad():
        model(torch.zeros(1, model.cfg["in_channels"], res, res), torch.full((1,), 0.5))
    for h in hooks:
        h.remove()
    return total


def parse_size(s):
    try:
        w, h = (int(v) for v in s.lower().split("x"))
    except ValueError:
        sys.exit(f"--size {s!r}: want WIDTHxHEIGHT, e.g. 2048x2048")
    if w < 16 or h < 16:
        sys.exit(f"--size {s}: each side needs at least 16 pixels")
    return w, h


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="train/configs/photo64-cpu.json", help="network config (a local one)")
    p.add_argument("--ckpt", help="run directory, checkpoint or weight file whose weights (and config) "
                                   "to use (default: random weights of --config)")
    p.add_argument("--size", default="2048x2048", help="the image, WxH (default 2048x2048)")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--batch", type=int, default=256, help="tiles per network evaluation")
    p.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    a = p.parse_args(argv)
    modes = a.modes.split(",")
    for m in modes:
        if m not in MODES:
            sys.exit(f"--modes: unknown mode {m!r} (want {', '.join(MODES)})")
    if a.steps < 1 or a.batch < 1:
        sys.exit("--steps and --batch need at least 1")
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    w, h = parse_size(a.size)
    state = None
    if a.ckpt:
        state, cfg, _ = checkpoint.load_weights(a.ckpt)
    else:
        cfg = config_mod.load(a.config)
    res = cfg["resolution"]
    tiles = tiles_along(h, res) * tiles_along(w, res)
    base = UNet(cfg)
    if state is not None:
        base.load_state_dict(state)
    flops_tile = conv_flops(base, res)
    base = base.to(device).requires_grad_(False)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
        base = base.to(memory_format=torch.channels_last)
    gen = torch.Generator(device=device).manual_seed(0)
    sizes = [min(a.batch, tiles - i) for i in range(0, tiles, a.batch)]

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    for mode in modes:
        compiled, bf16 = mode.startswith("compile"), mode.endswith("bf16")
        if compiled and not hasattr(torch, "compile"):
            print(json.dumps({"mode": mode, "error": f"torch.compile needs PyTorch 2.x; this is {torch.__version__}"}))
            continue
        net = torch.compile(base) if compiled else base
        xs = [torch.randn(n, cfg["in_channels"], res, res, generator=gen, device=device) for n in sorted(set(sizes))]
        by_size = {x.shape[0]: x for x in xs}

        def step(tau):
            for n in sizes:
                x = by_size[n].clone().requires_grad_(True)
                with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
                    eps = net(x, torch.full((n,), tau, device=device))
                (g,) = torch.autograd.grad(eps, x, grad_outputs=torch.ones_like(eps))
                del g

        try:
            t0 = time.perf_counter()
            step(0.5)  # warm-up: compilation, cudnn autotuning, allocator
            sync()
            warm = time.perf_counter() - t0
            t0 = time.perf_counter()
            for k in range(a.steps):
                step(1.0 - (k + 0.5) / a.steps)
            sync()
            total = time.perf_counter() - t0
        except RuntimeError as e:  # e.g. bfloat16 kernels missing on an old CPU build
            print(json.dumps({"mode": mode, "error": str(e).splitlines()[0]}))
            continue
        ms_step = 1e3 * total / a.steps
        # ε and its VJP: the backward pass counts as one more forward's arithmetic.
        gflops = 2 * flops_tile * tiles * a.steps / total / 1e9
        print(json.dumps({
            "mode": mode, "device": str(device), "size": f"{w}x{h}", "tiles": tiles, "batch": a.batch,
            "steps": a.steps, "warmup_s": round(warm, 2), "ms_per_step": round(ms_step, 2),
            "ms_per_restore": round(1e3 * total, 2), "tiles_per_s": round(tiles * a.steps / total, 1),
            "conv_gflops": round(gflops, 1),
            "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
            "torch": torch.__version__,
        }))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
