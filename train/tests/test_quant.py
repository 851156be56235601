"""int8 quantization of NETWORK.md and the weight files built on it."""

import json
import os
import tempfile
import unittest

import numpy as np
import torch

from train import config, safetensors, weights
from train.net import UNet
from train.tests.helpers import TINY


class TestQuantize(unittest.TestCase):
    def test_error_within_half_a_step(self):
        w = np.random.default_rng(0).standard_normal((6, 5, 3, 3)).astype(np.float32)
        w[2] *= 100  # rows have independent scales
        q, scale = weights.quantize(w)
        self.assertEqual(q.dtype, np.int8)
        self.assertEqual(scale.shape, (6,))
        err = np.abs(weights.dequantize(q, scale) - w)
        self.assertTrue(np.all(err <= scale[:, None, None, None] * (0.5 + 1e-5)))
        np.testing.assert_array_equal(np.abs(q).reshape(6, -1).max(1), 127)  # max|w| ↦ ±127

    def test_definition(self):
        w = np.array([[0.5, -1.27, 0.0051], [0, 0, 0]], np.float32)
        q, scale = weights.quantize(w)
        np.testing.assert_array_equal(scale, np.array([np.float32(1.27) / np.float32(127), 1], np.float32))
        np.testing.assert_array_equal(q, [[50, -127, 1], [0, 0, 0]])

    def test_only_conv_and_linear_weights_are_quantized(self):
        names = {k for k, v in UNet(TINY).state_dict().items() if weights.is_quantized(k, v.shape)}
        self.assertIn("conv_in.weight", names)
        self.assertIn("time.lin1.weight", names)
        self.assertNotIn("norm_out.weight", names)
        self.assertFalse(any(k.endswith(".bias") for k in names))


class TestWeightFiles(unittest.TestCase):
    def test_int8_and_f32_files_round_trip(self):
        state = UNet(TINY).state_dict()
        with tempfile.TemporaryDirectory() as d:
            for int8 in (False, True):
                path = os.path.join(d, f"{int8}.safetensors")
                weights.save(path, state, TINY, int8, {"steps": 7})
                raw, meta = safetensors.load(path)
                self.assertEqual(meta["format"], weights.FORMAT_INT8 if int8 else weights.FORMAT_F32)
                self.assertEqual(config.validate(json.loads(meta["config"])), TINY)
                self.assertEqual(meta["steps"], "7")
                self.assertEqual(raw["conv_in.weight"].dtype, np.int8 if int8 else np.float32)
                self.assertEqual(raw["conv_in.bias"].dtype, np.float32)
                got, cfg, _ = weights.load(path)
                self.assertEqual(set(got), set(state))
                for k, v in state.items():
                    if int8 and weights.is_quantized(k, v.shape):
                        step = torch.from_numpy(raw[k + "_scale"]).reshape(-1, *[1] * (v.dim() - 1))
                        self.assertTrue(bool(((got[k] - v).abs() <= step * (0.5 + 1e-5)).all()), k)
                    else:
                        self.assertTrue(torch.equal(got[k], v), k)


if __name__ == "__main__":
    unittest.main()
