"""Data loading: split selection (never train on val), decoding, cache, batches, packing."""

import contextlib
import io
import os
import tempfile
import unittest

import numpy as np
import torch

from train import data, pack
from train.tests.helpers import make_dataset


class TestData(unittest.TestCase):
    def setUp(self):
        self.quiet = contextlib.redirect_stderr(io.StringIO())  # decoding progress lines
        self.quiet.__enter__()
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = make_dataset(os.path.join(self.tmp.name, "faces"))
        self.cache = os.path.join(self.tmp.name, "cache")

    def tearDown(self):
        self.tmp.cleanup()
        self.quiet.__exit__(None, None, None)

    def test_train_split_never_includes_val(self):
        names = [os.path.basename(p) for p in data.split_files(self.dir, "train")]
        self.assertEqual(names, ["faces-train-000.tar", "faces-train-001.tar"])

    def test_train_loader_refuses_a_val_shard(self):
        val = os.path.join(self.dir, "faces-val-000.tar")
        with self.assertRaisesRegex(ValueError, "validation"):
            data.load_split(val, "train", 16, cache_dir=self.cache)
        self.assertEqual(len(data.load_split(val, "val", 16, cache_dir=self.cache)), 8)

    def test_decode_resize_cache_and_limit(self):
        a = data.load_split(self.dir, "train", 16, cache_dir=self.cache)
        self.assertEqual((a.shape, a.dtype), ((24, 16, 16, 3), np.uint8))
        self.assertEqual(len(os.listdir(self.cache)), 1)
        np.testing.assert_array_equal(data.load_split(self.dir, "train", 16, cache_dir=self.cache), a)
        b = data.load_split(self.dir, "train", 16, limit=5, cache_dir=self.cache)
        np.testing.assert_array_equal(b, a[:5])

    def test_batches_are_planar_in_range_and_flipped(self):
        a = data.load_split(self.dir, "train", 16, cache_dir=self.cache)
        x = data.Sampler(a, torch.device("cpu")).batch(64, torch.Generator().manual_seed(0))
        self.assertEqual((x.shape, x.dtype), ((64, 3, 16, 16), torch.float32))
        self.assertGreaterEqual(float(x.min()), -1.0)
        self.assertLessEqual(float(x.max()), 1.0)
        plain = data.to_model(torch.from_numpy(a))
        flipped = plain.flip(3)
        hits = [any(torch.equal(xi, p) for p in plain) for xi in x]
        flips = [any(torch.equal(xi, p) for p in flipped) for xi in x]
        self.assertTrue(all(h or f for h, f in zip(hits, flips)))
        self.assertTrue(any(flips) and any(hits))

    def test_pack_jpeg_round_trip(self):
        out = os.path.join(self.tmp.name, "packed")
        pack.main(["--data", self.dir, "--resolution", "16", "--out", out,
                   "--cache-dir", self.cache])
        path = os.path.join(out, "utkface-train-r16.tar.gz")
        got = data.load_split(path, "train", 16, cache_dir=self.cache).astype(np.float64)
        want = data.load_split(self.dir, "train", 16, cache_dir=self.cache).astype(np.float64)
        psnr = 10 * np.log10(255 ** 2 / ((got - want) ** 2).mean())
        self.assertGreater(psnr, 30)

    def test_pack_npy(self):
        out = os.path.join(self.tmp.name, "packed")
        pack.main(["--data", self.dir, "--resolution", "16", "--format", "npy", "--out", out,
                   "--cache-dir", self.cache])
        got = data.load_split(os.path.join(out, "utkface-train-r16.npy"), "train", 16)
        np.testing.assert_array_equal(got, data.load_split(self.dir, "train", 16, cache_dir=self.cache))


if __name__ == "__main__":
    unittest.main()
