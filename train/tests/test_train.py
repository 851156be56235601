"""Training runs end to end, checkpoints, resumes where it stopped, and exports."""

import contextlib
import io
import json
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
