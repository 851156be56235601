"""Golden outputs for the Go implementation (NETWORK.md, "Golden file").

    python -m train.golden --ckpt RUN --out-dir model/testdata/tiny

Writes model-f32.safetensors and model-int8.safetensors (the checkpoint's EMA weights)
and golden.safetensors: inputs x, tau, v and, for each weight file, eps and
vjp = ∂⟨v, ε(x, τ)⟩/∂x. The references are computed in float64 from exactly the
weights the files hold (int8: q·scale in float32, then widened), so they carry no
float32 error of their own; they are stored as float32.
"""

import argparse
import os

import torch

from . import export, safetensors, weights

F32_FILE, INT8_FILE, GOLDEN_FILE = "model-f32.safetensors", "model-int8.safetensors", "golden.safetensors"


def inputs(cfg, n, seed):
    """x ~ 0.8·N(0, I) clipped to [-2, 2], τ spread over (0.02, 0.95), v ~ N(0, I); float32."""
    gen = torch.Generator().manual_seed(seed)
    shape = (n, cfg["in_channels"], cfg["resolution"], cfg["resolution"])
    x = (0.8 * torch.randn(shape, generator=gen)).clamp(-2.0, 2.0)
    tau = 0.02 + (0.95 - 0.02) * (torch.arange(n, dtype=torch.float32) + 0.5) / n
    v = torch.randn(shape, generator=gen)
    return x, tau, v


def eps_and_vjp(model, x, tau, v):
    """ε(x, τ) and J_εᵀ v by autograd, in the dtype of model and inputs."""
    x = x.clone().requires_grad_(True)
    eps = model(x, tau)
    (vjp,) = torch.autograd.grad((eps * v).sum(), x)
    return eps.detach(), vjp


def reference(path, x, tau, v):
    """float64 ε and VJP for the weights as stored in the file at `path`."""
    state, cfg, _ = weights.load(path)
    model = weights.build(state, cfg).double()
    return eps_and_vjp(model, x.double(), tau.double(), v.double())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True, help="run directory or checkpoint.pt")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--n", type=int, default=3, help="number of (x, τ, v) cases")
    p.add_argument("--seed", type=int, default=1234)
    a = p.parse_args(argv)
    os.makedirs(a.out_dir, exist_ok=True)
    files = {}
    for kind, name in (("f32", F32_FILE), ("int8", INT8_FILE)):
        files[kind] = os.path.join(a.out_dir, name)
        size, _ = export.export(a.ckpt, files[kind], int8=kind == "int8")
        print(f"{files[kind]}: {size:,} bytes")

    _, cfg, _ = weights.load(files["f32"])
    x, tau, v = inputs(cfg, a.n, a.seed)
    out = {"x": x, "tau": tau, "v": v}
    for kind, path in files.items():
        eps, vjp = reference(path, x, tau, v)
        out[f"eps_{kind}"], out[f"vjp_{kind}"] = eps.float(), vjp.float()
    golden = os.path.join(a.out_dir, GOLDEN_FILE)
    safetensors.save(golden, {k: t.numpy() for k, t in out.items()}, {
        "script": "train/golden.py", "torch": torch.__version__, "seed": str(a.seed),
        "weights_f32": F32_FILE, "weights_int8": INT8_FILE, "precision": "float64 reference, stored as float32",
        "x": "0.8*N(0,1) clipped to [-2,2]", "vjp": "d<v, eps(x,tau)>/dx"})
    print(f"{golden}: {a.n} cases, tau {[round(t, 4) for t in tau.tolist()]}")


if __name__ == "__main__":
    main()
