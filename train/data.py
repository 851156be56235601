"""UTKFace data: tar shards (or a packed copy) → cached uint8 arrays → [-1, 1] batches.

Decoding and resizing ~22k JPEGs takes about a minute on two cores, so each split is
decoded once per (resolution, split, shard set, limit) and cached as a .npy file.
"""

import glob
import hashlib
import io
import os
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from PIL import Image

DEFAULT_DATA = os.path.join("..", "shared", "data", "utkface")
DEFAULT_CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs", "cache")
IMAGE_EXT = (".jpg", ".jpeg", ".png")
# Lanczos is antialiased when shrinking in Pillow (its support widens with the scale).
LANCZOS = getattr(Image, "Resampling", Image).LANCZOS


def split_files(data, split):
    """The files holding `split`: a directory's `*-<split>-*.tar[.gz]`, or one such file or .npy.

    The training split refuses any file whose name contains "val" (the validation shard
    must never be trained on), and the validation split any file named "train".
    """
    if os.path.isdir(data):
        paths = sorted(glob.glob(os.path.join(data, f"*-{split}-*.tar"))
                       + glob.glob(os.path.join(data, f"*-{split}-*.tar.gz")), key=os.path.basename)
        if not paths:
            raise FileNotFoundError(f"no '*-{split}-*.tar[.gz]' shards in {data}; pass --data with "
                                    "the UTKFace shards or a packed copy (python -m train.pack)")
    elif os.path.isfile(data):
        paths = [data]
    else:
        raise FileNotFoundError(f"--data {data} does not exist")
    if split == "train":
        bad = [p for p in paths if "val" in os.path.basename(p)]
        if bad:
            raise ValueError(f"refusing to train on {bad}: validation data must never be "
                             "trained on; point --data at the training shards")
    elif any("train" in os.path.basename(p) for p in paths):
        raise ValueError(f"refusing to validate on training data {paths}; point --data at the "
                         "validation shard (or its directory)")
    return paths


def read_tar(path, limit=None):
    """Image members' bytes in archive order (at most `limit`)."""
    blobs = []
    with tarfile.open(path) as tar:
        for m in tar:
            if limit is not None and len(blobs) >= limit:
                break
            if m.isfile() and m.name.lower().endswith(IMAGE_EXT):
                blobs.append(tar.extractfile(m).read())
    return blobs


def decode(blob, resolution):
    """JPEG/PNG bytes → uint8 (R, R, 3): centre square crop, antialiased resize."""
    with Image.open(io.BytesIO(blob)) as im:
        im = im.convert("RGB")
        w, h = im.size
        if w != h:
            s = min(w, h)
            im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        if im.size != (resolution, resolution):
            im = im.resize((resolution, resolution), LANCZOS)
        return np.asarray(im, dtype=np.uint8)


def _cache_path(cache_dir, paths, split, resolution, limit):
    h = hashlib.sha1()
    for p in paths:
        h.update(f"{os.path.basename(p)}:{os.path.getsize(p)};".encode())
    n = "all" if limit is None else str(limit)
    return os.path.join(cache_dir, f"{split}-r{resolution}-n{n}-{h.hexdigest()[:12]}.npy")


def load_split(data, split, resolution, limit=None, cache_dir=DEFAULT_CACHE):
    """All images of a split as uint8 (N, R, R, 3), decoded once and cached."""
    paths = split_files(data, split)
    if len(paths) == 1 and paths[0].endswith(".npy"):
        arr = np.load(paths[0], mmap_mode="r")
        if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[1:] != (resolution, resolution, 3):
            raise ValueError(f"{paths[0]}: expected uint8 (N, {resolution}, {resolution}, 3), got "
                             f"{arr.dtype} {arr.shape}; repack with --resolution {resolution}")
        return np.array(arr[:limit])
    cache = _cache_path(cache_dir, paths, split, resolution, limit)
    if os.path.exists(cache):
        return np.load(cache)
    t0, blobs = time.time(), []
    for p in paths:
        blobs += read_tar(p, None if limit is None else limit - len(blobs))
    if not blobs:
        raise ValueError(f"no images in {paths}")
    print(f"data: decoding {len(blobs)} images from {len(paths)} file(s) at {resolution}²…",
          file=sys.stderr)
    # Pillow releases the GIL while decoding and resizing, so threads use every core.
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        arr = np.stack(list(pool.map(lambda b: decode(b, resolution), blobs, chunksize=64)))
    os.makedirs(cache_dir, exist_ok=True)
    tmp = f"{cache}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        np.save(f, arr)
    os.replace(tmp, cache)
    print(f"data: {arr.shape} in {time.time() - t0:.0f}s, cached at {cache}", file=sys.stderr)
    return arr


def to_model(u8):
    """uint8 (B, R, R, 3) tensor → float32 (B, 3, R, R) in [-1, 1]."""
    return u8.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


class Sampler:
    """Random training batches (uniform with replacement, random horizontal flips).

    The uint8 images live on the training device (270 MB at 64² for UTKFace), so a
    batch costs one gather and no loader processes. Sampling with replacement from a
    generator makes the stream resumable from the generator's state alone.
    """

    def __init__(self, images_u8, device):
        self.images = torch.from_numpy(np.ascontiguousarray(images_u8)).to(device)
        self.device = device

    def __len__(self):
        return self.images.shape[0]

    def batch(self, size, gen):
        idx = torch.randint(len(self), (size,), generator=gen)
        flip = torch.rand(size, generator=gen) < 0.5
        x = to_model(self.images[idx.to(self.device)])
        return torch.where(flip.to(self.device)[:, None, None, None], x.flip(3), x)
