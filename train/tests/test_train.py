"""Training runs end to end, checkpoints, resumes where it stopped, and exports."""

import contextlib
import io
import json
import math
import os
import tempfile
import unittest

import torch

from train import checkpoint, compact, export, train
from train.tests.helpers import TINY, make_dataset


def run(args):
    with contextlib.redirect_stderr(io.StringIO()):
        train.main(args)


class TestTrain(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = self.tmp.name
        self.data = make_dataset(os.path.join(d, "faces"))
        self.cfg = os.path.join(d, "tiny.json")
        with open(self.cfg, "w") as f:
            json.dump(TINY, f)
        self.cache = os.path.join(d, "cache")

    def tearDown(self):
        self.tmp.cleanup()

    def common(self, out, steps):
        return ["--data", self.data, "--out", out, "--max-steps", str(steps), "--batch", "4",
                "--threads", "1", "--log-every", "1", "--warmup", "2", "--cache-dir", self.cache]

    def test_resume_continues_step_count_and_matches_an_uninterrupted_run(self):
        a, b = os.path.join(self.tmp.name, "a"), os.path.join(self.tmp.name, "b")
        run(["--config", self.cfg] + self.common(a, 2))
        self.assertEqual(checkpoint.load(a)["step"], 2)
        with self.assertRaises(SystemExit):  # an existing run is never overwritten silently
            run(["--config", self.cfg] + self.common(a, 4))
        # Batch size, warm-up and the rest come from the checkpoint when not given again.
        run(["--resume", "--data", self.data, "--out", a, "--max-steps", "4", "--threads", "1",
             "--log-every", "1", "--cache-dir", self.cache])
        ck = checkpoint.load(a)
        self.assertEqual((ck["step"], ck["images_seen"]), (4, 16))
        with open(os.path.join(a, "log.csv")) as f:
            self.assertEqual([line.split(",")[0] for line in f][1:], ["1", "2", "3", "4"])

        run(["--config", self.cfg] + self.common(b, 4))
        straight = checkpoint.load(b)
        for k in ck["model"]:
            self.assertTrue(torch.equal(ck["model"][k], straight["model"][k]), k)
            self.assertTrue(torch.equal(ck["ema"][k], straight["ema"][k]), k)

    def test_cpu_budget_stops_the_run(self):
        a = os.path.join(self.tmp.name, "a")
        # 6 ms of CPU time: the first step uses more, so the run stops after it.
        run(["--config", self.cfg, "--cpu-minutes", "1e-4"] + self.common(a, 50))
        self.assertEqual(checkpoint.load(a)["step"], 1)

    def test_compact_checkpoint_resumes_from_the_ema_with_a_new_warmup(self):
        a = os.path.join(self.tmp.name, "a")
        run(["--config", self.cfg] + self.common(a, 3))
        full = checkpoint.load(a)
        c = os.path.join(self.tmp.name, "c")
        os.makedirs(c)
        size = compact.compact(checkpoint.path_of(a), os.path.join(c, checkpoint.NAME))
        self.assertLess(size, 0.5 * os.path.getsize(checkpoint.path_of(a)))
        small = checkpoint.load(c)
        self.assertNotIn("model", small)
        self.assertNotIn("opt", small)
        for k in full["ema"]:
            self.assertTrue(torch.equal(small["ema"][k], full["ema"][k]), k)
        run(["--resume", "--data", self.data, "--out", c, "--max-steps", "5", "--threads", "1",
             "--log-every", "1", "--cache-dir", self.cache])
        ck = checkpoint.load(c)
        self.assertEqual((ck["step"], ck["warm_from"]), (5, 3))
        with open(os.path.join(c, "log.csv")) as f:
            lrs = [float(line.split(",")[4]) for line in list(f)[1:]]
        # warm-up 2 from step 3 again: half the peak, then the peak
        self.assertAlmostEqual(lrs[0] * 2, lrs[1])

    def test_export_sizes(self):
        a = os.path.join(self.tmp.name, "a")
        run(["--config", self.cfg] + self.common(a, 1))
        f32, n = export.export(a, os.path.join(self.tmp.name, "f.safetensors"), int8=False)
        q, _ = export.export(a, os.path.join(self.tmp.name, "q.safetensors"), int8=True)
        self.assertGreater(f32, 4 * n)
        self.assertLess(q, f32 / 2)


if __name__ == "__main__":
    unittest.main()


class TestNoiseLevels(unittest.TestCase):
    """The τ distributions and loss weightings of issue 22's arms."""

    def test_restore_distribution_puts_its_mass_where_restorations_start(self):
        g = torch.Generator().manual_seed(int.from_bytes(os.urandom(4), "little"))
        tau = train.draw_tau(200_000, g, "restore")
        self.assertGreaterEqual(float(tau.min()), train.TAU_MIN)
        self.assertLessEqual(float(tau.max()), 1.0)
        high = float((tau >= 0.5).float().mean())
        self.assertAlmostEqual(high, 1 - train.RESTORE_LOW, delta=0.01)
        # Uniform within each part: the mean of the low part is its midpoint.
        low = tau[tau < 0.5]
        self.assertAlmostEqual(float(low.mean()), (train.TAU_MIN + 0.5) / 2, delta=0.005)
        u = train.draw_tau(200_000, g, "uniform")
        self.assertAlmostEqual(float(u.mean()), (train.TAU_MIN + 1) / 2, delta=0.005)
        with self.assertRaises(ValueError):
            train.draw_tau(4, g, "lognormal")

    def test_min_snr_weight_matches_its_definition(self):
        tau = torch.rand(64, dtype=torch.float64) * 0.999 + 0.001
        w = train.loss_weight(tau, "min-snr")
        for t, wt in zip(tau.tolist(), w.tolist()):
            b = 0.1 * t + 9.95 * t * t
            snr = math.exp(-b) / -math.expm1(-b)  # μ²/σ²
            self.assertAlmostEqual(wt, min(snr, train.MIN_SNR_GAMMA) / snr, places=9)
        self.assertTrue(torch.equal(train.loss_weight(tau, "none"), torch.ones_like(tau)))

    def test_weighted_loss_is_the_weighted_mean_of_per_example_errors(self):
        torch.manual_seed(0)
        model = torch.nn.Conv2d(3, 3, 3, padding=1)
        net = lambda x, tau: model(x)  # noqa: E731 (a stand-in ε-network)
        x0 = torch.rand(5, 3, 8, 8) * 2 - 1
        for weighting in ("none", "min-snr"):
            g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(8)
            loss = train.loss_fn(net, x0, g1, g2, torch.device("cpu"), weighting=weighting)
            g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(8)
            tau = train.draw_tau(5, g1, "uniform")
            eps = torch.randn(x0.shape, generator=g2)
            mu = torch.exp(-0.5 * (0.1 * tau + 9.95 * tau * tau))
            sigma = torch.sqrt(1 - mu * mu)
            pred = model(mu[:, None, None, None] * x0 + sigma[:, None, None, None] * eps)
            per = ((pred - eps) ** 2).mean(dim=(1, 2, 3))
            want = (train.loss_weight(tau, weighting) * per).mean()
            self.assertAlmostEqual(float(loss), float(want), places=5)
