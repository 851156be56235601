"""Validation ε-MSE of the float32 (EMA) and int8-dequantized weights.

    python -m train.evaluate --ckpt train/runs/face64 [--limit 256]
    python -m train.evaluate --ckpt train/runs/photo64-cpu --crops --data ../shared/data/photos

With --crops (the photo prior) the images are photos.validation_crops: four seeded
multi-scale crops of each validation photo (--limit counts photos).

For each τ in --taus (default 0.1, 0.3, 0.5, 0.8): mean over validation images and pixels of
|ε_θ(μ_τ x₀ + σ_τ ε, τ) − ε|², with the same seeded noise for both weight sets, so
the int8 column differs from the f32 one by quantization alone. Prints a table on
stderr and JSON on stdout. Uses only the validation shard.
"""

import argparse
import json
import os
import sys

import torch

from . import checkpoint, data, photos, schedule, weights

TAUS = (0.1, 0.3, 0.5, 0.8)


@torch.no_grad()
def eps_mse(model, images_u8, tau, batch, seed, device):
    """Mean ε-MSE at one τ; the noise depends only on (seed, τ, image index)."""
    gen = torch.Generator().manual_seed(seed * 1000 + round(tau * 1000))
    total, count = 0.0, 0
    mu, sigma = schedule.mu_sigma(torch.tensor(tau, dtype=torch.float64))
    for i in range(0, len(images_u8), batch):
        x0 = data.to_model(torch.from_numpy(images_u8[i:i + batch]))
        eps = torch.randn(x0.shape, generator=gen)
        xt = (float(mu) * x0 + float(sigma) * eps).to(device)
        pred = model(xt, torch.full((len(x0),), tau, device=device)).float().cpu()
        total += float(((pred - eps) ** 2).sum())
        count += eps.numel()
    return total / count


def parse_taus(s):
    """The --taus list: comma-separated τ in (0, 1]."""
    try:
        taus = tuple(float(v) for v in s.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a comma-separated list of numbers")
    if not taus or not all(0 < t <= 1 for t in taus):
        raise argparse.ArgumentTypeError(f"{s!r}: every τ must lie in (0, 1]")
    return taus


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True, help="run directory, checkpoint.pt or a .safetensors file")
    p.add_argument("--data", default=data.DEFAULT_DATA, help="directory with the val shard, or a packed val file")
    p.add_argument("--limit", type=int, help="first N validation images only")
    p.add_argument("--crops", action="store_true",
                   help="validation crops of whole photos (the photo prior) instead of centre squares")
    p.add_argument("--cache-dir", default=data.DEFAULT_CACHE, help="where decoded splits are cached")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--taus", type=parse_taus, default=TAUS,
                   help="comma-separated noise levels in (0, 1], default " + ",".join(map(str, TAUS)))
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    results, images = {}, None
    for kind in ("f32", "int8"):
        state, cfg, prov = checkpoint.load_weights(a.ckpt, int8=kind == "int8")
        if prov.pop("weights") != kind:
            sys.exit(f"{a.ckpt} holds int8 weights only; pass a run directory, checkpoint "
                     "or f32 weight file to compare f32 against int8")
        if images is None and a.crops:
            images = photos.validation_crops(
                photos.load_photos(a.data, "val", cfg["resolution"], a.limit), cfg["resolution"])
        elif images is None:
            images = data.load_split(a.data, "val", cfg["resolution"], a.limit, a.cache_dir)
        model = weights.build(state, cfg).to(device)
        results[kind] = [eps_mse(model, images, t, a.batch, a.seed, device) for t in a.taus]
    print(f"{'tau':>6} {'f32':>10} {'int8':>10} {'int8/f32':>9}", file=sys.stderr)
    for i, t in enumerate(a.taus):
        f, q = results["f32"][i], results["int8"][i]
        print(f"{t:>6} {f:>10.5f} {q:>10.5f} {q / f:>9.4f}", file=sys.stderr)
    print(json.dumps({"source": a.ckpt, "provenance": prov, "images": len(images), "seed": a.seed,
                      "tau": list(a.taus), "eps_mse_f32": results["f32"], "eps_mse_int8": results["int8"]}))


if __name__ == "__main__":
    main()
