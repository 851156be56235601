"""train.inpaint_bound: the harmonic fill against a dense solve, the replacement sampler on
a point mass (where the posterior is exact), and the K → ∞ extrapolation on samples of
known bias and spread."""

import contextlib
import io
import math
import os
import tempfile
import unittest

import numpy as np
import torch

from train import checkpoint, inpaint_bound, schedule
from train.net import UNet
from train.tests.helpers import TINY, write_shard
from train.tests.test_sample import PointMass


def dense_harmonic(x, keep):
    """Laplace's equation over the holes by a dense solve: each hole pixel is the mean of
    its 4 neighbours, a neighbour outside the image mirrored back to the pixel itself."""
    h, w = keep.shape
    idx = {(i, j): n for n, (i, j) in enumerate(zip(*np.nonzero(~keep)))}
    out = x.copy()
    for c in range(x.shape[0]):
        a, rhs = np.zeros((len(idx), len(idx))), np.zeros(len(idx))
        for (i, j), n in idx.items():
            for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                ii, jj = i + di, j + dj
                if not (0 <= ii < h and 0 <= jj < w):
                    continue  # mirrored: the pixel itself, which cancels
                a[n, n] += 1
                if (ii, jj) in idx:
                    a[n, idx[(ii, jj)]] -= 1
                else:
                    rhs[n] += x[c, ii, jj]
        sol = np.linalg.solve(a, rhs)
        for (i, j), n in idx.items():
            out[c, i, j] = sol[n]
    return out


class TestInpaintBound(unittest.TestCase):
    def test_harmonic_matches_a_dense_solve(self):
        rng = np.random.default_rng(7)
        x = rng.uniform(-1, 1, (2, 3, 7, 9))
        keep = rng.uniform(size=(2, 7, 9)) > 0.45
        got = inpaint_bound.harmonic(torch.from_numpy(x), torch.from_numpy(keep)[:, None].double())
        for b in range(2):
            np.testing.assert_allclose(got[b].numpy(), dense_harmonic(x[b], keep[b]), atol=1e-9, rtol=0)

    def test_sampler_recovers_a_point_mass(self):
        c = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(3)) * 1.6 - 0.8
        x0 = c.double().expand(2, -1, -1, -1)
        keep = torch.from_numpy(np.stack([inpaint_bound.stroke_mask(np.random.default_rng(s), 16, 5)
                                          for s in (1, 2)]))[:, None].double()
        self.assertTrue(0 < float(keep.mean()) < 1)
        fill = inpaint_bound.harmonic(x0, keep)
        gen = torch.Generator().manual_seed(0)
        for tau0, steps in ((0.3, 5), (0.7, 2)):
            out = inpaint_bound.sample(PointMass(c), x0, keep, fill, tau0, steps, gen)
            torch.testing.assert_close(out, x0, atol=1e-4, rtol=0)

    def test_sampler_draws_a_gaussian_prior(self):
        # Pixels iid N(0, v): ε(x, τ) = E[ε | x_τ] = σx/(μ²v + σ²); the holes' posterior is
        # the prior, so many steps from τ₀ = 1 must give hole pixels of variance v (a step
        # loses O(1/steps) of it; every η gives these marginals, so η itself is not pinned).
        v = 0.09

        class Gaussian(torch.nn.Module):
            def forward(self, x, tau):
                mu, sigma = (t.float()[:, None, None, None] for t in schedule.mu_sigma(tau.double()))
                return sigma * x / (mu * mu * v + sigma * sigma)

        gen = torch.Generator().manual_seed(1)
        x0 = math.sqrt(v) * torch.randn(8, 3, 16, 16, generator=gen, dtype=torch.float64)
        keep = (torch.rand(8, 1, 16, 16, generator=gen) < 0.5).double()
        out = inpaint_bound.sample(Gaussian(), x0, keep, torch.zeros_like(x0), 1.0, 1000, gen)
        hole = (1 - keep).expand_as(out).bool()
        self.assertAlmostEqual(float(out[hole].var()) / v, 1, delta=0.05)
        torch.testing.assert_close(out[~hole], x0[~hole], atol=0, rtol=0)

    def test_bound_extrapolates_bias_and_spread(self):
        gen = torch.Generator().manual_seed(5)
        x0 = torch.rand(4, 3, 32, 32, generator=gen, dtype=torch.float64) - 0.5
        hole = (torch.rand(4, 1, 32, 32, generator=gen) < 0.3).double()
        bias, spread, k = 0.1, 0.2, 6
        samples = [x0 + bias + spread * torch.randn(x0.shape, generator=gen, dtype=torch.float64)
                   for _ in range(k)]
        s, m, b = inpaint_bound.bound(samples, x0, hole)
        n = 3 * float(hole.sum())  # [0, 1] units: errors halve, squares quarter
        self.assertAlmostEqual(s / n, (bias ** 2 + spread ** 2) / 4, delta=0.02 * s / n)
        self.assertAlmostEqual(m / n, (bias ** 2 + spread ** 2 / k) / 4, delta=0.02 * m / n)
        self.assertAlmostEqual(b / n, bias ** 2 / 4, delta=0.05 * b / n)

    def test_main_prints_every_point(self):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = dict(TINY, attn_resolutions=[])
            model = UNet(cfg)
            ck = os.path.join(tmp, "checkpoint.pt")
            checkpoint.save(ck, {"ema": model.state_dict(), "config": cfg, "step": 1,
                                 "images_seen": 1, "elapsed": 1.0})
            write_shard(os.path.join(tmp, "photos-val-000.tar"), 3, size=24, seed=2)
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                inpaint_bound.main(["--ckpt", ck, "--data", tmp, "--skip", "1", "--limit", "2",
                                    "--per-photo", "2", "--width", "5", "--samples", "2",
                                    "--steps", "1,2", "--tau0", "0.2,0.5", "--threads", "1"])
            lines = out.getvalue().splitlines()
            self.assertIn("4 crops of 2 photos", lines[0])
            self.assertEqual(len(lines), 5, lines)
            self.assertTrue(all("K → ∞" in l for l in lines[1:]), lines)


if __name__ == "__main__":
    unittest.main()
