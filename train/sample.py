"""A 4×4 grid of unconditional samples by deterministic DDIM (η = 0).

    python -m train.sample --ckpt train/runs/face64 --out train/runs/face64/samples.png

τ grid: `--steps` points uniform from 1.0 down to 1e-3; x at τ = 1 ~ N(0, I). At each
grid point x̂₀ = (x − σ ε_θ)/μ, then x ← μ' x̂₀ + σ' ε_θ at the next point; the image is
x̂₀ at the last point (one network evaluation per point), clipped to [-1, 1].
Intermediate x̂₀ are not clipped, so this is the plain probability-flow DDIM.
"""

import argparse
import os

import numpy as np
import torch
from PIL import Image

from . import checkpoint, schedule, weights

TAU_END = 1e-3


@torch.no_grad()
def ddim(model, n, cfg, steps, seed, device):
    gen = torch.Generator().manual_seed(seed)
    r = cfg["resolution"]
    x = torch.randn(n, cfg["in_channels"], r, r, generator=gen).to(device)
    taus = torch.linspace(1.0, TAU_END, steps, dtype=torch.float64)
    mus, sigmas = schedule.mu_sigma(taus)
    for i in range(steps):
        eps = model(x, torch.full((n,), float(taus[i]), device=device)).float()
        x0 = (x - float(sigmas[i]) * eps) / float(mus[i])
        if i + 1 < steps:
            x = float(mus[i + 1]) * x0 + float(sigmas[i + 1]) * eps
    return x0.clamp(-1, 1).cpu()


def grid(images, cols, scale):
    """(N, C, R, R) in [-1, 1] → uint8 RGB grid with a 2-pixel gap, nearest-upscaled."""
    n, _, r, _ = images.shape
    rows, gap = (n + cols - 1) // cols, 2
    out = np.full((rows * (r + gap) + gap, cols * (r + gap) + gap, 3), 255, np.uint8)
    pix = ((images.permute(0, 2, 3, 1).numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)
    for k in range(n):
        y, x = gap + (k // cols) * (r + gap), gap + (k % cols) * (r + gap)
        out[y:y + r, x:x + r] = pix[k]
    return Image.fromarray(out).resize((out.shape[1] * scale, out.shape[0] * scale), Image.NEAREST)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True, help="run directory, checkpoint.pt or a .safetensors file")
    p.add_argument("--out", required=True, help="output PNG")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--steps", type=int, default=50, help="network evaluations (τ grid points)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--int8", action="store_true",
                   help="use the int8-dequantized weights (implied by an int8 weight file)")
    p.add_argument("--scale", type=int, default=2, help="nearest-neighbour upscaling of the grid")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    a = p.parse_args(argv)
    if a.steps < 1:
        p.error("--steps must be at least 1")
    torch.set_num_threads(a.threads)
    state, cfg, prov = checkpoint.load_weights(a.ckpt, int8=a.int8)
    model = weights.build(state, cfg).to(a.device)
    images = ddim(model, a.n, cfg, a.steps, a.seed, torch.device(a.device))
    if os.path.dirname(a.out):
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
    grid(images, 4, a.scale).save(a.out)
    print(f"{a.out}: {a.n} samples, {a.steps} DDIM steps, {prov['weights']} weights")


if __name__ == "__main__":
    main()
