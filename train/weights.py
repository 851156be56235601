"""Weight files of NETWORK.md: int8 per-output-channel quantization, f32, and loading.

Conv and linear weights (every `.weight` with 2+ dims) are quantized in int8
files; biases and GroupNorm parameters stay float32.
"""

import json

import numpy as np
import torch

from . import config as config_mod
from . import safetensors
from .net import UNet

FORMAT_INT8 = "conjure-int8-v1"
FORMAT_F32 = "conjure-f32-v1"


def is_quantized(name, shape):
    """Conv/linear weights: the only tensors an int8 file stores as I8."""
    return name.endswith(".weight") and len(shape) >= 2


def quantize(w):
    """Symmetric per-output-channel int8: returns (q int8, scale float32 (out,)).

    scale = max|w|/127 per row (1 for an all-zero row), q = clamp(round(w/scale), ±127).
    Done in float32, as the stored scale is float32 and the reader multiplies by it.
    """
    w = np.asarray(w, dtype=np.float32)
    rows = w.reshape(w.shape[0], -1)
    amax = np.abs(rows).max(axis=1)
    scale = np.where(amax > 0, amax / np.float32(127), np.float32(1)).astype(np.float32)
    q = np.clip(np.rint(rows / scale[:, None]), -127, 127).astype(np.int8)
    return q.reshape(w.shape), scale


def dequantize(q, scale):
    """w = q·scale in float32, exactly as the Go reader computes it."""
    q = np.asarray(q)
    return (q.astype(np.float32).reshape(q.shape[0], -1)
            * np.asarray(scale, np.float32)[:, None]).reshape(q.shape)


def file_tensors(state, int8):
    """state_dict (torch) → {name: np.ndarray} as stored in an f32 or int8 file."""
    out = {}
    for name, t in state.items():
        a = t.detach().to("cpu", torch.float32).numpy()
        if int8 and is_quantized(name, a.shape):
            out[name], out[name + "_scale"] = quantize(a)
        else:
            out[name] = a
    return out


def save(path, state, cfg, int8, metadata=None):
    """Write a weight file; metadata values are stringified. Returns the byte size."""
    meta = {"format": FORMAT_INT8 if int8 else FORMAT_F32, "config": config_mod.dumps(cfg)}
    meta.update({k: str(v) for k, v in (metadata or {}).items()})
    safetensors.save(path, file_tensors(state, int8), meta)
    with open(path, "rb") as f:
        return f.seek(0, 2)


def load(path):
    """Read a weight file → (state dict of float32 torch tensors, config, metadata).

    int8 weights come back dequantized (q·scale in float32).
    """
    tensors, meta = safetensors.load(path)
    fmt = meta.get("format")
    if fmt not in (FORMAT_INT8, FORMAT_F32):
        raise ValueError(f"{path}: metadata format is {fmt!r}, expected {FORMAT_INT8} or {FORMAT_F32}")
    if "config" not in meta:
        raise ValueError(f"{path}: metadata has no 'config'")
    cfg = config_mod.validate(json.loads(meta["config"]))
    state = {}
    for name, a in tensors.items():
        if name.endswith(".weight_scale"):
            continue
        if a.dtype == np.int8:
            scale = tensors.get(name + "_scale")
            if scale is None:
                raise ValueError(f"{path}: int8 tensor {name!r} has no {name}_scale")
            a = dequantize(a, scale)
        elif a.dtype != np.float32:
            raise ValueError(f"{path}: tensor {name!r} is {a.dtype}, expected float32 or int8")
        state[name] = torch.from_numpy(np.ascontiguousarray(a))
    return state, cfg, meta


def quantized_state(state):
    """The state as an int8 file would give it back (for measuring quantization error)."""
    return {name: torch.from_numpy(dequantize(*quantize(t.detach().cpu().float().numpy())))
            if is_quantized(name, t.shape) else t.detach().cpu().float().clone()
            for name, t in state.items()}


def build(state, cfg):
    """A UNet in eval mode holding `state` (strict: names must match NETWORK.md)."""
    model = UNet(cfg)
    model.load_state_dict(state, strict=True)
    return model.eval()
