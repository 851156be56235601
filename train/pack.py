"""Pack a split, resized, into one compact file for training elsewhere.

    python -m train.pack --resolution 64 --split train --out train/runs/packed
    python -m train.pack --photos --split train --out train/runs/packed      # whole photos

--format jpeg (default) writes `<out>/utkface-<split>-r<R>.tar.gz` of quality-92 4:4:4
JPEGs at the target size (~42 MiB for the 64² training split, ~40.7 dB PSNR against the
exact pixels: fits a 64 MiB upload; gzip only removes the 1 KiB tar header and padding
per member, which would otherwise add 22 MiB); --format npy
writes the exact uint8 array (N, R, R, 3) as `<out>/utkface-<split>-r<R>.npy` (~270 MB).
Both are accepted by --data of train/evaluate.

--photos packs whole photos for --crops training (the crops are cut at training time):
`<out>/photos-<split>-s<S>.tar.gz` of quality-90 4:4:4 JPEGs, each Lanczos-downscaled so
its short side is at most S = --max-side (default 160; 0 keeps every photo at its own size
and names the file `photos-<split>-full.tar.gz`). --data defaults to ../shared/data/photos.
photos.load_photos reads the file through --data of train/train and train/evaluate.
"""

import argparse
import io
import os
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from . import data, photos

PHOTO_MAX_SIDE = 160
DEFAULT_QUALITY = {"faces": 92, "photos": 90}


def write_tar(path, blobs):
    """A .tar.gz of JPEG byte strings as members 000000.jpg, 000001.jpg, … (atomically)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with tarfile.open(tmp, "w:gz") as tar:
        for i, blob in enumerate(blobs):
            info = tarfile.TarInfo(f"{i:06d}.jpg")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    os.replace(tmp, path)


def jpeg(img, quality):
    """uint8 (H, W, 3) → 4:4:4 JPEG bytes."""
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality, subsampling=0)
    return buf.getvalue()


def write_jpeg_tar(path, images, quality):
    write_tar(path, (jpeg(img, quality) for img in images))


def shrink(photo, max_side):
    """Lanczos-downscale uint8 (H, W, 3) so its short side is at most max_side (0: as is)."""
    h, w = photo.shape[:2]
    if not max_side or min(h, w) <= max_side:
        return photo
    s = max_side / min(h, w)
    size = (max_side, round(h * s)) if w <= h else (round(w * s), max_side)  # (W, H)
    return np.asarray(Image.fromarray(photo).resize(size, data.LANCZOS))


def pack_photos(data_path, split, out, max_side, quality, limit=None):
    """Whole photos of a split → `<out>/photos-<split>-s<max_side>.tar.gz`; returns (path, n)."""
    paths = data.split_files(data_path, split)
    blobs = []
    for p in paths:
        blobs += data.read_tar(p, None if limit is None else limit - len(blobs))
    if not blobs:
        raise ValueError(f"no images in {paths}")
    encode = lambda b: jpeg(shrink(photos.decode_whole(b), max_side), quality)  # noqa: E731
    # Pillow releases the GIL while decoding, resizing and encoding.
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        encoded = list(pool.map(encode, blobs, chunksize=16))
    path = os.path.join(out, f"photos-{split}-{f's{max_side}' if max_side else 'full'}.tar.gz")
    write_tar(path, encoded)
    return path, len(encoded)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="directory of tar shards (default ../shared/data/utkface, "
                                  "or ../shared/data/photos with --photos)")
    p.add_argument("--split", default="train", choices=["train", "val"])
    p.add_argument("--resolution", type=int, help="side of the packed squares (not with --photos)")
    p.add_argument("--format", default="jpeg", choices=["jpeg", "npy"])
    p.add_argument("--quality", type=int, help="JPEG quality (4:4:4 chroma); default "
                   f"{DEFAULT_QUALITY['faces']}, or {DEFAULT_QUALITY['photos']} with --photos")
    p.add_argument("--photos", action="store_true",
                   help="pack whole photos (for --crops training) instead of centre squares")
    p.add_argument("--max-side", type=int, default=PHOTO_MAX_SIDE,
                   help="with --photos: downscale photos whose short side exceeds this "
                        f"(default {PHOTO_MAX_SIDE}; 0 keeps their own size)")
    p.add_argument("--limit", type=int, help="pack only the first N images")
    p.add_argument("--cache-dir", default=data.DEFAULT_CACHE, help="where decoded splits are cached")
    p.add_argument("--out", required=True, help="output directory")
    a = p.parse_args(argv)
    if a.photos:
        if a.resolution is not None or a.format != "jpeg":
            p.error("--photos packs whole photos as JPEG: drop --resolution and --format")
        os.makedirs(a.out, exist_ok=True)
        path, n = pack_photos(a.data or photos.DEFAULT_DATA, a.split, a.out, a.max_side,
                              a.quality or DEFAULT_QUALITY["photos"], a.limit)
        print(f"{path}: {n} photos, {os.path.getsize(path) / 2**20:.1f} MiB", file=sys.stderr)
        return
    if a.resolution is None:
        p.error("--resolution is required (or --photos)")
    images = data.load_split(a.data or data.DEFAULT_DATA, a.split, a.resolution, a.limit, a.cache_dir)
    os.makedirs(a.out, exist_ok=True)
    stem = os.path.join(a.out, f"utkface-{a.split}-r{a.resolution}")
    if a.format == "npy":
        path = stem + ".npy"
        np.save(path, images)
    else:
        path = stem + ".tar.gz"
        write_jpeg_tar(path, images, a.quality or DEFAULT_QUALITY["faces"])
    print(f"{path}: {len(images)} images, {os.path.getsize(path) / 2**20:.1f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
