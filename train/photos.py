"""Natural photos of any size → random multi-scale crops at the network's resolution.

The photo prior is local: it is trained on crops of whole photos, each at a random
antialiased downscale s ∈ [min_scale, 1], so it sees texture and edges at several
scales, and is later run on overlapping tiles of a photo of any size.

Photos are decoded once per split and kept whole in memory (≈ 0.7 GB for the 1,961
training photos); a crop costs one small Lanczos resize.
"""

import io
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from PIL import Image

from . import data

DEFAULT_DATA = os.path.join("..", "shared", "data", "photos")
MIN_SCALE = 0.5


def decode_whole(blob):
    """JPEG/PNG bytes → uint8 (H, W, 3) at the stored size."""
    with Image.open(io.BytesIO(blob)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def load_photos(data_path, split, resolution, limit=None):
    """The split's photos as a list of uint8 (H, W, 3) arrays, each at least `resolution`
    on its short side (smaller ones are refused: a crop could not be cut from them)."""
    paths = data.split_files(data_path, split)
    t0, blobs = time.time(), []
    for p in paths:
        blobs += data.read_tar(p, None if limit is None else limit - len(blobs))
    if not blobs:
        raise ValueError(f"no images in {paths}")
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        photos = list(pool.map(decode_whole, blobs))
    small = [i for i, p in enumerate(photos) if min(p.shape[:2]) < resolution]
    if small:
        raise ValueError(f"{len(small)} photo(s) in {paths} are smaller than {resolution} px "
                         f"on a side (first: member {small[0]}); crops need at least that")
    pixels = sum(p.shape[0] * p.shape[1] for p in photos)
    print(f"photos: {len(photos)} {split} photos ({pixels / 1e6:.0f} Mpx) decoded in "
          f"{time.time() - t0:.0f}s", file=sys.stderr)
    return photos


def crop(photo, resolution, scale, top, left, flip):
    """A resolution² crop of `photo` at downscale `scale`: the source window of side
    ⌈resolution/scale⌉ at (top, left) (fractions of the free range), Lanczos-resized."""
    h, w = photo.shape[:2]
    side = min(h, w, math.ceil(resolution / scale))
    y, x = round(top * (h - side)), round(left * (w - side))
    win = photo[y:y + side, x:x + side]
    if side != resolution:
        win = np.asarray(Image.fromarray(win).resize((resolution, resolution), data.LANCZOS))
    return win[:, ::-1] if flip else win


class CropSampler:
    """Random training batches of multi-scale crops with random horizontal flips.

    Every draw comes from the torch generator passed to `batch`, so the stream resumes
    from that generator's state alone, like data.Sampler.
    """

    def __init__(self, photos, resolution, device, min_scale=MIN_SCALE):
        self.photos, self.resolution, self.device = photos, resolution, device
        self.min_scale = min_scale
        # Pillow releases the GIL while resizing: on a GPU machine the crops of a batch of
        # 256 would otherwise cost ~0.14 s of one core, more than the step itself.
        self.pool = ThreadPoolExecutor(os.cpu_count())

    def __len__(self):
        return len(self.photos)

    def batch(self, size, gen):
        idx = torch.randint(len(self.photos), (size,), generator=gen).tolist()
        u = torch.rand(size, 4, generator=gen).tolist()

        def one(k):
            s, top, left, flip = u[k]
            return crop(self.photos[idx[k]], self.resolution, self.min_scale + (1 - self.min_scale) * s,
                        top, left, flip < 0.5)

        out = np.stack(list(self.pool.map(one, range(size))))
        return data.to_model(torch.from_numpy(out).to(self.device))


def validation_crops(photos, resolution, per_photo=4, seed=0, min_scale=MIN_SCALE):
    """A fixed set of crops (uint8 (N, R, R, 3)) for validation: `per_photo` crops of
    every photo at seeded scales and positions, so every run measures the same pixels."""
    rng = np.random.default_rng(seed)
    out = []
    for p in photos:
        for _ in range(per_photo):
            s, top, left = rng.uniform(min_scale, 1), rng.uniform(), rng.uniform()
            out.append(crop(p, resolution, s, top, left, False))
    return np.stack(out)
