"""Pack a split, resized, into one compact file for training elsewhere.

    python -m train.pack --resolution 64 --split train --out train/runs/packed

--format jpeg (default) writes `<out>/utkface-<split>-r<R>.tar.gz` of quality-92 4:4:4
JPEGs at the target size (~42 MiB for the 64² training split, ~40.7 dB PSNR against the
exact pixels: fits a 64 MiB upload; gzip only removes the 1 KiB tar header and padding
per member, which would otherwise add 22 MiB); --format npy
writes the exact uint8 array (N, R, R, 3) as `<out>/utkface-<split>-r<R>.npy` (~270 MB).
Both are accepted by --data of train/evaluate.
"""

import argparse
import io
import os
import sys
import tarfile

import numpy as np
from PIL import Image

from . import data


def write_jpeg_tar(path, images, quality):
    tmp = f"{path}.tmp{os.getpid()}"
    with tarfile.open(tmp, "w:gz") as tar:
        for i, img in enumerate(images):
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, format="JPEG", quality=quality, subsampling=0)
            info = tarfile.TarInfo(f"{i:06d}.jpg")
            info.size = buf.tell()
            buf.seek(0)
            tar.addfile(info, buf)
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=data.DEFAULT_DATA, help="directory of UTKFace tar shards")
    p.add_argument("--split", default="train", choices=["train", "val"])
    p.add_argument("--resolution", type=int, required=True)
    p.add_argument("--format", default="jpeg", choices=["jpeg", "npy"])
    p.add_argument("--quality", type=int, default=92, help="JPEG quality (4:4:4 chroma)")
    p.add_argument("--limit", type=int, help="pack only the first N images")
    p.add_argument("--cache-dir", default=data.DEFAULT_CACHE, help="where decoded splits are cached")
    p.add_argument("--out", required=True, help="output directory")
    a = p.parse_args(argv)
    images = data.load_split(a.data, a.split, a.resolution, a.limit, a.cache_dir)
    os.makedirs(a.out, exist_ok=True)
    stem = os.path.join(a.out, f"utkface-{a.split}-r{a.resolution}")
    if a.format == "npy":
        path = stem + ".npy"
        np.save(path, images)
    else:
        path = stem + ".tar.gz"
        write_jpeg_tar(path, images, a.quality)
    print(f"{path}: {len(images)} images, {os.path.getsize(path) / 2**20:.1f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
