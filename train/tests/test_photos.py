"""Photo crops for the local prior: split safety, sizes, scales, flips, determinism."""

import contextlib
import io
import os
import tempfile
import unittest

import numpy as np
import torch
from PIL import Image

from train import data, photos
from train.tests.helpers import write_shard


class TestPhotos(unittest.TestCase):
    def setUp(self):
        self.quiet = contextlib.redirect_stderr(io.StringIO())
        self.quiet.__enter__()
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = os.path.join(self.tmp.name, "photos")
        os.makedirs(self.dir)
        write_shard(os.path.join(self.dir, "photos-train-000.tar"), 6, size=48, seed=1)
        write_shard(os.path.join(self.dir, "photos-val-000.tar"), 3, size=40, seed=2)

    def tearDown(self):
        self.tmp.cleanup()
        self.quiet.__exit__(None, None, None)

    def test_whole_photos_and_split_safety(self):
        train = photos.load_photos(self.dir, "train", 16)
        self.assertEqual([p.shape for p in train], [(48, 48, 3)] * 6)
        with self.assertRaisesRegex(ValueError, "validation"):
            photos.load_photos(os.path.join(self.dir, "photos-val-000.tar"), "train", 16)
        with self.assertRaisesRegex(ValueError, "smaller than 64"):
            photos.load_photos(self.dir, "train", 64)

    def test_crop_is_an_antialiased_downscale_of_the_window(self):
        rng = np.random.default_rng(0)
        photo = rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)
        # Scale 1: an exact window; scale 0.5: the 32² window shrunk by Lanczos.
        np.testing.assert_array_equal(photos.crop(photo, 16, 1.0, 0.0, 1.0, False), photo[:16, 54:70])
        np.testing.assert_array_equal(photos.crop(photo, 16, 1.0, 1.0, 0.0, True), photo[34:50, :16][:, ::-1])
        want = np.asarray(Image.fromarray(photo[9:41, 19:51]).resize((16, 16), data.LANCZOS))
        np.testing.assert_array_equal(photos.crop(photo, 16, 0.5, 0.5, 0.5, False), want)

    def test_batches_resume_from_the_generator(self):
        s = photos.CropSampler(photos.load_photos(self.dir, "train", 16), 16, torch.device("cpu"))
        gen = torch.Generator().manual_seed(3)
        a = s.batch(8, gen)
        state = gen.get_state()
        b = s.batch(8, gen)
        gen2 = torch.Generator()
        gen2.set_state(state)
        self.assertTrue(torch.equal(b, s.batch(8, gen2)))
        self.assertEqual((a.shape, a.dtype), ((8, 3, 16, 16), torch.float32))
        self.assertGreaterEqual(float(a.min()), -1.0)
        self.assertLessEqual(float(a.max()), 1.0)
        self.assertFalse(torch.equal(a, b))

    def test_validation_crops_are_fixed(self):
        val = photos.load_photos(self.dir, "val", 16)
        a = photos.validation_crops(val, 16, per_photo=2, seed=5)
        self.assertEqual((a.shape, a.dtype), ((6, 16, 16, 3), np.uint8))
        np.testing.assert_array_equal(a, photos.validation_crops(val, 16, per_photo=2, seed=5))


if __name__ == "__main__":
    unittest.main()
