"""Our safetensors writer/reader: round trip, header padding and alignment, errors."""

import json
import os
import struct
import tempfile
import unittest

import numpy as np

from train import safetensors


class TestSafetensors(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "t.safetensors")

    def tearDown(self):
        self.dir.cleanup()

    def test_round_trip(self):
        rng = np.random.default_rng(0)
        tensors = {"a.weight": rng.standard_normal((3, 2, 3, 3)).astype(np.float32),
                   "a.weight_scale": rng.random(3).astype(np.float32),
                   "q": rng.integers(-127, 128, (5, 7)).astype(np.int8),
                   "scalar": np.float32(2.5).reshape(()), "d": rng.standard_normal(4)}
        meta = {"format": "conjure-f32-v1", "config": '{"a":1}'}
        safetensors.save(self.path, tensors, meta)
        got, got_meta = safetensors.load(self.path)
        self.assertEqual(got_meta, meta)
        self.assertEqual(set(got), set(tensors))
        for k, v in tensors.items():
            self.assertEqual(got[k].dtype, v.dtype)
            np.testing.assert_array_equal(got[k], v)

    def test_header_padded_and_tensors_aligned(self):
        safetensors.save(self.path, {"b": np.zeros(3, np.int8), "a": np.ones(3, np.float32),
                                     "c": np.ones(1, np.float64)}, {"k": "v"})
        with open(self.path, "rb") as f:
            raw = f.read()
        (n,) = struct.unpack("<Q", raw[:8])
        self.assertEqual(n % 8, 0)
        header = json.loads(raw[8:8 + n])
        for name, size in (("c", 8), ("a", 4), ("b", 1)):
            self.assertEqual(header[name]["data_offsets"][0] % size, 0)
        self.assertEqual(header["a"]["dtype"], "F32")
        self.assertEqual(header["b"]["dtype"], "I8")
        self.assertEqual(header["__metadata__"], {"k": "v"})
        # Little-endian float32 bytes of 1.0 where the header says.
        b0 = 8 + n + header["a"]["data_offsets"][0]
        self.assertEqual(raw[b0:b0 + 4], struct.pack("<f", 1.0))

    def test_truncated_file_is_rejected(self):
        safetensors.save(self.path, {"a": np.ones(16, np.float32)})
        with open(self.path, "rb") as f:
            raw = f.read()
        with open(self.path, "wb") as f:
            f.write(raw[:-4])
        with self.assertRaises(ValueError):
            safetensors.load(self.path)

    def test_metadata_must_be_strings(self):
        with self.assertRaises(TypeError):
            safetensors.save(self.path, {"a": np.ones(1, np.float32)}, {"steps": 3})


if __name__ == "__main__":
    unittest.main()
