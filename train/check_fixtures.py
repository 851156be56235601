"""Self-check of exported weights and golden file against their checkpoint.

    python -m train.check_fixtures --ckpt RUN --dir model/testdata/tiny

1. model-f32.safetensors holds the checkpoint's EMA weights exactly.
2. model-int8.safetensors re-read and dequantized is within half a quantization step
   (scale/2 per output channel) of them; everything else is bit-exact.
3. A fresh float32 forward (and VJP) from each file reproduces golden.safetensors
   within 1e-4 relative, measured as max|a − b| / max|b| over each tensor — the
   tolerance the Go implementation is held to.
"""

import argparse
import os
import sys

import numpy as np
import torch

from . import checkpoint, config as config_mod, golden, safetensors, weights

TOL = 1e-4


def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def check_weight_files(ck, directory):
    ema = {k: v.float().numpy() for k, v in ck["ema"].items()}
    f32, meta = safetensors.load(os.path.join(directory, golden.F32_FILE))
    assert meta["format"] == weights.FORMAT_F32, meta["format"]
    assert meta["config"] == config_mod.dumps(ck["config"]), "f32 file config differs from checkpoint"
    assert set(f32) == set(ema), f"f32 names differ: {sorted(set(f32) ^ set(ema))}"
    for k in ema:
        assert f32[k].dtype == np.float32 and np.array_equal(f32[k], ema[k]), f"f32 {k} differs"

    q, meta = safetensors.load(os.path.join(directory, golden.INT8_FILE))
    assert meta["format"] == weights.FORMAT_INT8, meta["format"]
    expected = {k + "_scale" for k in ema if weights.is_quantized(k, ema[k].shape)} | set(ema)
    assert set(q) == expected, f"int8 names differ: {sorted(set(q) ^ expected)}"
    worst = 0.0
    for k, w in ema.items():
        if weights.is_quantized(k, w.shape):
            assert q[k].dtype == np.int8 and q[k + "_scale"].dtype == np.float32, k
            scale = q[k + "_scale"].reshape((-1,) + (1,) * (w.ndim - 1))
            err = np.abs(weights.dequantize(q[k], q[k + "_scale"]) - w) / scale
            worst = max(worst, float(err.max()))
            assert err.max() <= 0.5 + 1e-4, f"int8 {k}: error {err.max():.4f} steps > 0.5"
        else:
            assert q[k].dtype == np.float32 and np.array_equal(q[k], w), f"int8 file {k} differs"
    print(f"weights: f32 exact; int8 within {worst:.4f} of a quantization step (bound 0.5)")


def check_golden(directory):
    g, _ = safetensors.load(os.path.join(directory, golden.GOLDEN_FILE))
    x, tau, v = (torch.from_numpy(g[k]) for k in ("x", "tau", "v"))
    for kind, name in (("f32", golden.F32_FILE), ("int8", golden.INT8_FILE)):
        state, cfg, _ = weights.load(os.path.join(directory, name))
        eps, vjp = golden.eps_and_vjp(weights.build(state, cfg), x, tau, v)
        e_eps, e_vjp = rel_err(eps, g[f"eps_{kind}"]), rel_err(vjp, g[f"vjp_{kind}"])
        print(f"golden {kind}: float32 forward rel err {e_eps:.2e}, VJP {e_vjp:.2e} (limit {TOL:g})")
        assert e_eps <= TOL and e_vjp <= TOL, f"golden {kind} not reproduced within {TOL}"
    diff = rel_err(g["eps_int8"], g["eps_f32"])
    print(f"golden: int8 vs f32 eps differ by {diff:.2e} relative (quantization effect)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True)
    p.add_argument("--dir", required=True)
    a = p.parse_args(argv)
    try:
        check_weight_files(checkpoint.load(a.ckpt), a.dir)
        check_golden(a.dir)
    except AssertionError as e:
        sys.exit(f"check_fixtures: FAILED: {e}")
    print("check_fixtures: OK")


if __name__ == "__main__":
    main()
