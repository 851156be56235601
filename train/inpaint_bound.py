"""How much can a prior add to the harmonic fill of thick strokes, at best?

    python -m train.inpaint_bound --ckpt models/photo.safetensors --data ../shared/data/photos

A restoration scored by PSNR is best served by the posterior mean. This measures how close
the prior's posterior mean comes to beating the harmonic fill (classical.Harmonic, the
`fill` baseline) over the holes: on seeded 64×64 crops of validation photos (--skip/--limit
count photos; sessions tune on photos 101 on, never the evaluation's first ones), one thick
stroke each (a round brush --width px across along two random segments), K samples per crop
are drawn by a replacement sampler — start at τ₀ from the noised fill, then at every step
x̂₀ = D(x_τ) with the kept pixels pasted back and a stochastic DDIM step (η = 1) — and
averaged. With the pooled hole MSE of one sample (S), of the mean of K (M) and the samples'
spread (V, unbiased), the squared error of the K → ∞ mean is M − V/K: what no number of
samples, and no sampler that returns this prior's posterior mean, can beat.

Prints a line per (steps, τ₀) with hole PSNR over the fill (mean over crops of the per-crop
difference, 95% interval) for one sample and the mean of K, and the pooled MSE ratios
S/F, M/F and (M − V/K)/F against the fill's F, the last also in dB.
"""

import argparse
import math
import os
import sys

import numpy as np
import torch

from . import checkpoint, data, photos, schedule, weights

TAU_END = 1e-3


def stroke_mask(rng, side, width):
    """Keep-mask (bool side×side): a round brush `width` px across along two random
    segments from a point in the middle half, as eval's thick strokes on a 64-px tile."""
    keep = np.ones((side, side), bool)
    yy, xx = np.mgrid[0:side, 0:side] + 0.5
    x, y = rng.uniform(side / 4, 3 * side / 4, 2)
    angle = rng.uniform(0, 2 * math.pi)
    for _ in range(2):
        angle += rng.uniform(-0.75, 0.75)
        length = rng.uniform(side / 6, side / 3)
        for s in np.arange(0, length + 1e-9, width / 4):
            cx, cy = x + s * math.cos(angle), y + s * math.sin(angle)
            keep &= (xx - cx) ** 2 + (yy - cy) ** 2 > (width / 2) ** 2
        x, y = x + length * math.cos(angle), y + length * math.sin(angle)
    return keep


def laplacian(u):
    """5-point Laplacian with mirrored borders (no flux), as classical.Harmonic."""
    p = torch.nn.functional.pad(u, (1, 1, 1, 1), mode="replicate")
    return p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:] - 4 * u


def harmonic(x, keep, tol=1e-10, max_iter=2000):
    """Harmonic fill of the holes (keep = 0) of x (B, C, H, W), float64: conjugate gradients
    on −Δ restricted to the holes (symmetric positive definite once a pixel is kept)."""
    hole = 1 - keep
    u = x * keep
    r = hole * laplacian(u)
    p, rs = r.clone(), (r * r).sum((2, 3), keepdim=True)
    for _ in range(max_iter):
        if float(rs.max()) < tol * tol:
            break
        ap = -hole * laplacian(p)
        a = rs / (p * ap).sum((2, 3), keepdim=True).clamp_min(1e-300)
        u, r = u + a * p, r - a * ap
        rn = (r * r).sum((2, 3), keepdim=True)
        p, rs = r + rn / rs.clamp_min(1e-300) * p, rn
    return u


def sample(model, x0, keep, fill, tau0, steps, gen):
    """One replacement-sampler draw for every crop: (B, C, H, W) in [−1, 1]."""
    hole = 1 - keep
    taus = torch.linspace(tau0, TAU_END, steps, dtype=torch.float64)
    mus, sigmas = (v.tolist() for v in schedule.mu_sigma(taus))
    x = mus[0] * fill + sigmas[0] * torch.randn(x0.shape, generator=gen, dtype=torch.float64)
    for i, tau in enumerate(taus.tolist()):
        m, s = mus[i], sigmas[i]
        with torch.no_grad():
            eps = model(x.float(), torch.full((len(x),), tau)).double()
        xh = keep * x0 + hole * ((x - s * eps) / m).clamp(-1, 1)
        if i + 1 == steps:
            return xh
        m2, s2 = mus[i + 1], sigmas[i + 1]
        eps = (x - m * xh) / s
        fresh = s2 / s * math.sqrt(max(0.0, 1 - (m / m2) ** 2))  # DDPM's posterior std
        x = m2 * xh + math.sqrt(max(s2 * s2 - fresh * fresh, 0.0)) * eps + \
            fresh * torch.randn(x0.shape, generator=gen, dtype=torch.float64)


def hole_sq_err(est, x0, hole):
    """Per-crop summed squared hole error in [0, 1] units, and per-crop hole PSNR."""
    e = (((est.clamp(-1, 1) - x0) / 2) ** 2 * hole).sum((1, 2, 3))
    return e, 10 * torch.log10(3 * hole.sum((1, 2, 3)) / e)


def bound(samples, x0, hole):
    """Pooled hole MSE of one sample, of the mean of the K samples, and of the K → ∞ mean
    (M − V/K, V the unbiased spread of one sample around the mean)."""
    k = len(samples)
    mean = sum(samples) / k
    s = float(hole_sq_err(samples[0], x0, hole)[0].sum())
    m = float(hole_sq_err(mean, x0, hole)[0].sum())
    v = sum(float((((o - mean) / 2) ** 2 * hole).sum()) for o in samples) / (k - 1)
    return s, m, m - v / k


def interval(d):
    return float(d.mean()), 1.96 * float(d.std()) / math.sqrt(len(d))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True, help="run directory, checkpoint.pt or a .safetensors file")
    p.add_argument("--data", default="../shared/data/photos", help="directory with the val shard")
    p.add_argument("--skip", type=int, default=100, help="validation photos to skip")
    p.add_argument("--limit", type=int, default=12, help="validation photos to use")
    p.add_argument("--per-photo", type=int, default=4, help="crops per photo")
    p.add_argument("--width", type=float, default=17, help="brush width in pixels")
    p.add_argument("--samples", type=int, default=4, help="K, samples per crop (at least 2)")
    p.add_argument("--steps", default="5", help="comma-separated network evaluations per sample")
    p.add_argument("--tau0", default="0.1,0.2,0.3", help="comma-separated start times")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    a = p.parse_args(argv)
    try:
        steps = [int(v) for v in a.steps.split(",")]
        taus = [float(v) for v in a.tau0.split(",")]
    except ValueError:
        p.error("--steps and --tau0 are comma-separated numbers")
    if a.samples < 2 or min(steps) < 1 or not all(TAU_END < t <= 1 for t in taus):
        p.error("need --samples ≥ 2, --steps ≥ 1 and every τ₀ in (0.001, 1]")
    torch.set_num_threads(a.threads)
    state, cfg, prov = checkpoint.load_weights(a.ckpt)
    model = weights.build(state, cfg).eval()
    side = cfg["resolution"]
    ph = photos.load_photos(a.data, "val", side, limit=a.skip + a.limit)[a.skip:]
    if not ph:
        sys.exit(f"no validation photos after skipping {a.skip}: lower --skip")
    x0 = data.to_model(torch.from_numpy(photos.validation_crops(ph, side, a.per_photo, a.seed))).double()
    rng = np.random.default_rng(a.seed)
    keep = torch.from_numpy(np.stack([stroke_mask(rng, side, a.width) for _ in x0]))[:, None].double()
    hole = 1 - keep
    fill = harmonic(x0, keep)
    f_err, f_psnr = hole_sq_err(fill, x0, hole)
    f = float(f_err.sum())
    print(f"{len(x0)} crops of {len(ph)} photos, holes {float(hole.mean()):.1%} of the pixels, "
          f"{prov['weights']} weights; fill: hole PSNR {float(f_psnr.mean()):.2f} dB")
    for n in steps:
        for tau0 in taus:
            gen = torch.Generator().manual_seed(a.seed)
            outs = [sample(model, x0, keep, fill, tau0, n, gen) for _ in range(a.samples)]
            one, _ = interval(hole_sq_err(outs[0], x0, hole)[1] - f_psnr)
            avg, ci = interval(hole_sq_err(sum(outs) / a.samples, x0, hole)[1] - f_psnr)
            s, m, b = bound(outs, x0, hole)
            print(f"steps {n:3d} τ₀ {tau0:.3g}: over the fill, one sample {one:+.2f} dB, mean of "
                  f"{a.samples} {avg:+.2f} ± {ci:.2f} dB; pooled MSE / fill: one {s / f:.3f}, mean "
                  f"{m / f:.3f}, K → ∞ {b / f:.3f} ({-10 * math.log10(b / f):+.2f} dB)", flush=True)


if __name__ == "__main__":
    main()
