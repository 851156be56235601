"""The network against NETWORK.md: names, shapes, time embedding, attention layout."""

import copy
import math
import unittest

import torch

from train import config
from train.net import Attention, UNet, time_features
from train.tests.helpers import TINY


def res(prefix, cin, cout, temb):
    """Parameter shapes of ResBlock(cin→cout), as NETWORK.md defines it."""
    p = {f"{prefix}.norm1.weight": (cin,), f"{prefix}.norm1.bias": (cin,),
         f"{prefix}.conv1.weight": (cout, cin, 3, 3), f"{prefix}.conv1.bias": (cout,),
         f"{prefix}.temb.weight": (cout, temb), f"{prefix}.temb.bias": (cout,),
         f"{prefix}.norm2.weight": (cout,), f"{prefix}.norm2.bias": (cout,),
         f"{prefix}.conv2.weight": (cout, cout, 3, 3), f"{prefix}.conv2.bias": (cout,)}
    if cin != cout:
        p.update({f"{prefix}.skip.weight": (cout, cin, 1, 1), f"{prefix}.skip.bias": (cout,)})
    return p


def attn(prefix, ch):
    return {f"{prefix}.norm.weight": (ch,), f"{prefix}.norm.bias": (ch,),
            f"{prefix}.qkv.weight": (3 * ch, ch, 1, 1), f"{prefix}.qkv.bias": (3 * ch,),
            f"{prefix}.out.weight": (ch, ch, 1, 1), f"{prefix}.out.bias": (ch,)}


def conv(prefix, cout, cin, k=3):
    return {f"{prefix}.weight": (cout, cin, k, k), f"{prefix}.bias": (cout,)}


class TestNames(unittest.TestCase):
    def test_tiny_state_dict_matches_spec(self):
        # Hand-derived from NETWORK.md for channels 8, mult [1, 2], one ResBlock, attention at 8.
        # Skip stack: conv_in 8, down.0.res.0 8, down.0.down 8, down.1.res.0 16.
        t = 32
        want = {"time.lin1.weight": (32, 8), "time.lin1.bias": (32,),
                "time.lin2.weight": (32, 32), "time.lin2.bias": (32,)}
        want.update(conv("conv_in", 8, 3))
        want.update(res("down.0.res.0", 8, 8, t))
        want.update(conv("down.0.down", 8, 8))
        want.update(res("down.1.res.0", 8, 16, t))
        want.update(attn("down.1.attn.0", 16))
        want.update(res("mid.res1", 16, 16, t))
        want.update(attn("mid.attn", 16))
        want.update(res("mid.res2", 16, 16, t))
        want.update(res("up.1.res.0", 16 + 16, 16, t))
        want.update(attn("up.1.attn.0", 16))
        want.update(res("up.1.res.1", 16 + 8, 16, t))
        want.update(attn("up.1.attn.1", 16))
        want.update(conv("up.1.up", 16, 16))
        want.update(res("up.0.res.0", 16 + 8, 8, t))
        want.update(res("up.0.res.1", 8 + 8, 8, t))
        want.update({"norm_out.weight": (8,), "norm_out.bias": (8,)})
        want.update(conv("conv_out", 3, 8))
        got = {k: tuple(v.shape) for k, v in UNet(TINY).state_dict().items()}
        self.assertEqual(sorted(set(got) ^ set(want)), [])
        self.assertEqual(got, want)


class TestForward(unittest.TestCase):
    def test_shapes_with_two_res_blocks_and_three_levels(self):
        cfg = dict(TINY, mult=[1, 2, 2], res_blocks=2, attn_resolutions=[8, 4])
        model = UNet(cfg)
        x = torch.randn(2, 3, 16, 16)
        self.assertEqual(model(x, torch.tensor([0.1, 0.9])).shape, x.shape)

    def test_space_to_depth_stem(self):
        # s2d = 2: conv_in sees the 2×2 pixel-unshuffled image (12 channels at R/2), every
        # level runs at half the side, and conv_out's 12 channels are shuffled back.
        cfg = dict(TINY, attn_resolutions=[], mid_attn=False, s2d=2)
        model = UNet(cfg)
        self.assertEqual(tuple(model.conv_in.weight.shape[:2]), (cfg["channels"], 12))
        self.assertEqual(tuple(model.conv_out.weight.shape[:2]), (12, cfg["channels"]))
        x = torch.randn(2, 3, 16, 16)
        tau = torch.tensor([0.1, 0.9])
        out = model(x, tau)
        self.assertEqual(out.shape, x.shape)
        # The stem is the identity-free rearrangement: running the same layers on the
        # unshuffled image by hand and shuffling the result back gives the same output.
        plain = UNet(dict(cfg, s2d=1, resolution=8, in_channels=12))
        plain.load_state_dict(model.state_dict())
        by_hand = torch.nn.functional.pixel_shuffle(
            plain(torch.nn.functional.pixel_unshuffle(x, 2), tau), 2)
        self.assertTrue(torch.allclose(out, by_hand, atol=1e-6))
        with self.assertRaises(Exception):
            UNet(dict(cfg, s2d=3))

    def test_batch_items_are_independent(self):
        model = UNet(TINY).double()
        x, tau = torch.randn(3, 3, 16, 16, dtype=torch.float64), torch.tensor([0.1, 0.5, 0.9])
        whole = model(x, tau)
        for i in range(3):
            torch.testing.assert_close(model(x[i:i + 1], tau[i:i + 1]), whole[i:i + 1])


class TestTimeEmbedding(unittest.TestCase):
    def test_cos_first_then_sin(self):
        tau, c, scale = 0.3, 8, 1000
        e = time_features(torch.tensor([tau], dtype=torch.float64), c, scale, torch.float64)[0]
        t, half = scale * tau, c // 2
        for k in range(half):
            f = math.exp(-math.log(10000) * k / half)
            self.assertAlmostEqual(float(e[k]), math.cos(t * f), places=12)
            self.assertAlmostEqual(float(e[half + k]), math.sin(t * f), places=12)


class TestAttention(unittest.TestCase):
    def test_matches_per_head_loops_of_the_spec(self):
        torch.manual_seed(0)
        ch, heads, n = 8, 2, 4
        a = Attention(ch, heads, 4).double()
        x = torch.randn(1, ch, 2, 2, dtype=torch.float64)
        h = a.norm(x)
        qkv = a.qkv(h)[0].reshape(3 * ch, n)
        q, k, v = qkv[:ch], qkv[ch:2 * ch], qkv[2 * ch:]
        d = ch // heads
        o = torch.zeros(ch, n, dtype=torch.float64)
        for hd in range(heads):
            cs = slice(hd * d, (hd + 1) * d)
            for i in range(n):
                s = torch.tensor([sum(q[c, i] * k[c, j] for c in range(hd * d, (hd + 1) * d))
                                  for j in range(n)]) / math.sqrt(d)
                w = torch.softmax(s, 0)
                o[cs, i] = (v[cs] * w[None, :]).sum(1)
        want = x + a.out(o.reshape(1, ch, 2, 2))
        torch.testing.assert_close(a(x), want)


class TestConfig(unittest.TestCase):
    def bad(self, **change):
        cfg = copy.deepcopy(TINY)
        cfg.update(change)
        with self.assertRaises(config.ConfigError) as cm:
            config.validate(cfg)
        return str(cm.exception)

    def test_valid(self):
        config.validate(copy.deepcopy(TINY))

    def test_rules(self):
        self.assertIn("divisible by 2^", self.bad(resolution=18, mult=[1, 2, 2]))
        self.assertIn("even", self.bad(channels=7, groups=1, heads=1))
        self.assertIn("groups", self.bad(groups=3))
        self.assertIn("heads", self.bad(heads=3))
        self.assertIn("positive", self.bad(res_blocks=0))
        self.assertIn("level size", self.bad(attn_resolutions=[5]))
        self.assertIn("unknown", self.bad(dropout=0.1))
        self.assertIn("true or false", self.bad(mid_attn=0))
        cfg = copy.deepcopy(TINY)
        del cfg["heads"]
        with self.assertRaises(config.ConfigError):
            config.validate(cfg)

    def test_mid_attn_optional(self):
        # Absent means true and is not written, so older files keep their config text.
        self.assertNotIn("mid_attn", config.dumps(config.validate(copy.deepcopy(TINY))))
        self.assertNotIn("mid_attn", config.dumps(config.validate(dict(TINY, mid_attn=True))))
        local = config.validate(dict(TINY, attn_resolutions=[], mid_attn=False))
        self.assertIn('"mid_attn":false', config.dumps(local))
        names = set(UNet(local).state_dict())
        self.assertFalse([n for n in names if ".attn" in n])
        with_mid = set(UNet(dict(TINY, attn_resolutions=[])).state_dict())
        self.assertEqual(sorted(with_mid - names),
                         sorted(f"mid.attn.{p}.{q}" for p in ("norm", "qkv", "out") for q in ("weight", "bias")))


if __name__ == "__main__":
    unittest.main()
