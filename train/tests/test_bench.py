"""The throughput benches run and report what they measured: train.bench in float32 and
under bfloat16 autocast (the CPU path train.train --bf16 takes), and train.bench_tiles'
tiled ε + VJP on package tile's grid."""

import contextlib
import io
import json
import unittest

import torch

from train import bench, bench_tiles
from train.net import UNet

LOCAL = "train/configs/tiny-local.json"


def lines(main, args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(args)
    return [json.loads(l) for l in out.getvalue().splitlines()]


class TestBench(unittest.TestCase):
    def test_train_bench_fp32_and_bf16(self):
        for extra in ([], ["--bf16"]):
            (r,) = lines(bench.main, ["--config", LOCAL, "--batch", "4", "--threads", "1", "--steps", "1"] + extra)
            self.assertNotIn("error", r, r)
            self.assertEqual(r["bf16"], bool(extra))
            self.assertGreater(r["images_per_s"], 0)

    def test_bf16_forward_matches_fp32(self):
        # GroupNorm runs in float32 under autocast, so bf16 only rounds the convs.
        torch.manual_seed(0)
        m = UNet(json.load(open(LOCAL)))
        x, tau = torch.randn(2, 3, 16, 16), torch.tensor([0.3, 0.8])
        with torch.no_grad():
            ref = m(x, tau)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                got = m(x, tau).float()
        rel = (got - ref).norm() / ref.norm()
        self.assertLess(rel.item(), 0.05)
        self.assertGreater(rel.item(), 0)  # it did run in bfloat16

    def test_tiles_along_matches_package_tile(self):
        # tile.NewGrid's counts for 64-px tiles overlapping by 16: ⌈(n − 16)/48⌉ past 64 px.
        for n, want in [(16, 1), (64, 1), (65, 2), (112, 2), (113, 3), (256, 5), (2048, 43)]:
            self.assertEqual(bench_tiles.tiles_along(n, 64), want, n)

    def test_bench_tiles_reports_every_tile(self):
        rs = lines(bench_tiles.main, ["--config", LOCAL, "--size", "40x24", "--steps", "2", "--batch", "3",
                                      "--device", "cpu", "--threads", "1", "--modes", "eager-fp32,eager-bf16"])
        self.assertEqual([r["mode"] for r in rs], ["eager-fp32", "eager-bf16"])
        for r in rs:
            self.assertNotIn("error", r, r)
            # 16-px tiles overlapping by 4: 3 along 40 px, 2 along 24.
            self.assertEqual(r["tiles"], 6)
            self.assertAlmostEqual(r["ms_per_restore"], 2 * r["ms_per_step"], delta=0.02)
            self.assertAlmostEqual(r["tiles_per_s"], 6 * 2 / (r["ms_per_restore"] / 1e3), delta=0.2)


if __name__ == "__main__":
    unittest.main()
