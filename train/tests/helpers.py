"""Shared fixtures: a small config and synthetic UTKFace-like shards."""

import io
import os
import tarfile

import numpy as np
from PIL import Image

TINY = {"resolution": 16, "in_channels": 3, "channels": 8, "mult": [1, 2], "res_blocks": 1,
        "attn_resolutions": [8], "groups": 4, "heads": 2, "time_scale": 1000}


def write_shard(path, n, size=200, seed=0):
    """A tar of n random-but-smooth JPEGs named like the real shards' members."""
    rng = np.random.default_rng(seed)
    with tarfile.open(path, "w") as tar:
        for i in range(n):
            small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
            img = Image.fromarray(small).resize((size, size), Image.BILINEAR)
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=90)
            info = tarfile.TarInfo(f"{i:016x}.jpg")
            info.size = buf.tell()
            buf.seek(0)
            tar.addfile(info, buf)


def make_dataset(directory, n_train=24, n_val=8):
    os.makedirs(directory, exist_ok=True)
    write_shard(os.path.join(directory, "faces-train-000.tar"), n_train // 2, seed=1)
    write_shard(os.path.join(directory, "faces-train-001.tar"), n_train - n_train // 2, seed=2)
    write_shard(os.path.join(directory, "faces-val-000.tar"), n_val, seed=3)
    return directory
