"""Training checkpoints (atomic torch.save) and loading weights from any source."""

import os

import torch

from . import weights

NAME = "checkpoint.pt"


def path_of(run_or_file):
    """A run directory means its checkpoint.pt; a file path is used as is."""
    return os.path.join(run_or_file, NAME) if os.path.isdir(run_or_file) else run_or_file


def save(path, state):
    """Write atomically (temp file + fsync + rename): a crash never leaves a torn file."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path):
    path = path_of(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}; train first (python -m train.train)")
    # Our own files, so full unpickling is safe; weights_only=True cannot be used because
    # PyTorch 1.13's restricted unpickler rejects plain floats (pickle opcode BINFLOAT).
    return torch.load(path, map_location="cpu", weights_only=False)


def load_weights(source, int8=False):
    """(float32 state, config, provenance) from a run dir/checkpoint (EMA weights) or a
    weight file. int8=True gives the weights as an int8 file dequantizes them; an int8
    file always gives those. provenance["weights"] says which ("f32" or "int8")."""
    if source.endswith(".safetensors"):
        state, cfg, meta = weights.load(source)
        prov = {k: v for k, v in meta.items() if k != "config"}
        stored_int8 = meta["format"] == weights.FORMAT_INT8
    else:
        ck = load(source)
        state, cfg = {k: v.float() for k, v in ck["ema"].items()}, ck["config"]
        prov = {"steps": ck["step"], "images_seen": ck["images_seen"],
                "elapsed_s": round(ck["elapsed"], 1)}
        stored_int8 = False
    if int8 and not stored_int8:
        state = weights.quantized_state(state)
    prov["weights"] = "int8" if int8 or stored_int8 else "f32"
    return state, cfg, prov
