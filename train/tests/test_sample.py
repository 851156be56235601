"""DDIM sampling and the VP schedule, checked on a point mass where the answer is exact."""

import math
import unittest

import torch

from train import sample, schedule
from train.tests.helpers import TINY


class PointMass(torch.nn.Module):
    """The exact ε of data δ_c: ε(x, τ) = (x − μ_τ c)/σ_τ."""

    def __init__(self, c):
        super().__init__()
        self.c = c

    def forward(self, x, tau):
        mu, sigma = schedule.mu_sigma(tau.double())
        return ((x - mu.float()[:, None, None, None] * self.c) / sigma.float()[:, None, None, None])


class TestSchedule(unittest.TestCase):
    def test_closed_form(self):
        tau = torch.tensor([1e-3, 0.5, 1.0], dtype=torch.float64)
        mu, sigma = schedule.mu_sigma(tau)
        for t, m, s in zip(tau.tolist(), mu.tolist(), sigma.tolist()):
            b = 0.1 * t + 9.95 * t * t
            self.assertAlmostEqual(m, math.exp(-b / 2), places=14)
            self.assertAlmostEqual(s, math.sqrt(1 - math.exp(-b)), places=12)
            self.assertAlmostEqual(m * m + s * s, 1.0, places=12)


class TestDDIM(unittest.TestCase):
    def test_point_mass_is_recovered(self):
        c = torch.linspace(-0.9, 0.9, 3 * 16 * 16).reshape(1, 3, 16, 16)
        out = sample.ddim(PointMass(c), 4, TINY, 10, 0, torch.device("cpu"))
        torch.testing.assert_close(out, c.expand(4, -1, -1, -1), atol=1e-4, rtol=0)

    def test_grid_layout(self):
        img = sample.grid(torch.zeros(16, 3, 8, 8), cols=4, scale=2)
        self.assertEqual(img.size, (2 * (4 * 10 + 2), 2 * (4 * 10 + 2)))


if __name__ == "__main__":
    unittest.main()
