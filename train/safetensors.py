"""Minimal safetensors reader/writer on numpy (no external package).

Layout: u64 little-endian header length N, N bytes of JSON header (padded with
spaces to a multiple of 8), then the raw little-endian tensor bytes. Each header
entry is {"dtype", "shape", "data_offsets": [begin, end]} relative to the data
start; "__metadata__" maps strings to strings.
"""

import json
import os
import struct

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
          "I16": "<i2", "I8": "i1", "U8": "u1"}
_NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def save(path, tensors, metadata=None):
    """Write {name: np.ndarray} and a {str: str} metadata map to path, atomically.

    Tensors are laid out by element size (largest first), then name, as the
    reference library does: with the 8-byte-aligned header every tensor then starts
    at a multiple of its element size, so readers may map the bytes directly.
    """
    arrays = {}
    for name, a in tensors.items():
        a = np.asarray(a)
        dt = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        if np.dtype(dt) not in _NAMES:
            raise TypeError(f"tensor {name!r}: dtype {a.dtype} has no safetensors name here")
        arrays[name] = np.ascontiguousarray(a, dtype=dt)
    header, offset = {}, 0
    if metadata:
        bad = {k: v for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)}
        if bad:
            raise TypeError(f"safetensors metadata must map str to str; offending entries: {bad}")
        header["__metadata__"] = dict(metadata)
    order = sorted(arrays, key=lambda n: (-arrays[n].dtype.itemsize, n))
    for name in order:
        a = arrays[name]
        header[name] = {"dtype": _NAMES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for name in order:
            f.write(arrays[name].tobytes())
    os.replace(tmp, path)


def load(path):
    """Read a safetensors file: returns ({name: np.ndarray}, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short to be safetensors ({len(raw)} bytes)")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} exceeds the file size {len(raw)}")
    header = json.loads(raw[8:8 + n])
    data = memoryview(raw)[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors, end_max = {}, 0
    for name, info in header.items():
        if info["dtype"] not in DTYPES:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {info['dtype']}")
        dt = np.dtype(DTYPES[info["dtype"]])
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        if end - begin != dt.itemsize * int(np.prod(shape, dtype=np.int64)) or end > len(data):
            raise ValueError(f"{path}: tensor {name!r} offsets {begin}..{end} do not fit "
                             f"shape {shape} {info['dtype']} / data size {len(data)}")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dt).reshape(shape).copy()
        end_max = max(end_max, end)
    if end_max != len(data):
        raise ValueError(f"{path}: {len(data) - end_max} trailing bytes after the last tensor")
    return tensors, metadata
