"""train/device.sh end to end on the CPU (CONJURE_DEVICE=cpu), and pack --photos.

Each mode packs tiny synthetic data, runs the script with $OUT in a temp dir, checks every
returned file, joins the checkpoint parts and resumes them for one more step.
"""

import contextlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest

import numpy as np
import torch
from PIL import Image

from train import checkpoint, pack, photos, train, weights
from train.tests.helpers import TINY, make_dataset

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "train", "device.sh")
# Each returned file; the checkpoint comes as checkpoint.pt or checkpoint.pt.part0…
OUTPUTS = {"device.log", "nvidia-smi.txt", "log.csv", "model-int8.safetensors", "eval.json"}


def write_photos(path, sizes, seed=0):
    """A tar of smooth random JPEG 'photos' of the given (width, height) sizes."""
    rng = np.random.default_rng(seed)
    with tarfile.open(path, "w") as tar:
        for i, size in enumerate(sizes):
            img = Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)).resize(size, Image.BILINEAR)
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=90)
            info = tarfile.TarInfo(f"{i:016x}.jpg")
            info.size = buf.tell()
            buf.seek(0)
            tar.addfile(info, buf)


def quiet(fn, *args):
    with contextlib.redirect_stderr(io.StringIO()):
        return fn(*args)


class TestDevice(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name
        self.cache = os.path.join(self.d, "cache")
        self.packed = os.path.join(self.d, "packed")
        self.cfg = os.path.join(self.d, "tiny.json")
        with open(self.cfg, "w") as f:
            json.dump(TINY, f)

    def tearDown(self):
        self.tmp.cleanup()

    def device(self, name, out, **env):
        full = dict(os.environ, OUT=out, PYTHON=sys.executable, CONJURE_DEVICE="cpu",
                    CONJURE_PACKED=self.packed, OMP_NUM_THREADS="1",
                    CONJURE_EXTRA="--max-steps 3 --batch 4 --threads 1 --log-every 1 --warmup 2",
                    CONJURE_EVAL_EXTRA="--threads 1 --batch 16")
        full.update(env)
        return subprocess.run([SCRIPT, name, "3"], cwd=REPO, env=full, capture_output=True, text=True)

    def check_outputs(self, out, steps, crops, train_data):
        """Every file is there; the checkpoint joins, holds `steps` and resumes one step."""
        files = set(os.listdir(out))
        parts = sorted(f for f in files if f.startswith("checkpoint.pt"))
        self.assertEqual(files - set(parts), OUTPUTS)
        self.assertLessEqual(len(files), 8)  # what the device tool returns
        run = os.path.join(self.d, "resumed")
        os.makedirs(run)
        with open(os.path.join(run, checkpoint.NAME), "wb") as f:  # cat checkpoint.pt.part* > checkpoint.pt
            for p in parts:
                with open(os.path.join(out, p), "rb") as src:
                    f.write(src.read())
        ck = checkpoint.load(run)
        self.assertEqual(ck["step"], steps)
        self.assertEqual(ck["args"]["crops"], crops)

        with open(os.path.join(out, "log.csv")) as f:
            self.assertEqual(f.readline().split(",")[0], "step")
            self.assertEqual(f.readlines()[-1].split(",")[0], str(steps))
        state, cfg, meta = weights.load(os.path.join(out, "model-int8.safetensors"))
        self.assertEqual((cfg, meta["format"], meta["steps"]), (TINY, weights.FORMAT_INT8, str(steps)))
        with open(os.path.join(out, "eval.json")) as f:
            ev = json.load(f)
        self.assertEqual(len(ev["eps_mse_f32"]), len(ev["tau"]))
        self.assertTrue(all(np.isfinite(ev["eps_mse_int8"])))
        with open(os.path.join(out, "device.log")) as f:
            log = f.read()
        self.assertIn("summary: eps-MSE tau 0.1", log)
        self.assertIn("images seen this run", log)

        quiet(train.main, ["--resume", "--out", run, "--data", train_data, "--max-steps", str(steps + 1),
                           "--threads", "1", "--cache-dir", self.cache] + (["--crops"] if crops else []))
        self.assertEqual(checkpoint.load(run)["step"], steps + 1)
        return ck, parts, log

    def test_face_run_returns_a_split_checkpoint_that_resumes(self):
        faces = make_dataset(os.path.join(self.d, "faces"))
        for split in ("train", "val"):
            quiet(pack.main, ["--data", faces, "--split", split, "--resolution", "64",
                              "--out", self.packed, "--cache-dir", self.cache])
        out = os.path.join(self.d, "out")
        r = self.device("face64", out, CONJURE_CONFIG=self.cfg, CONJURE_PART_BYTES="400000")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        ck, parts, log = self.check_outputs(out, 3, False,
                                            os.path.join(self.packed, "utkface-train-r64.tar.gz"))
        self.assertGreaterEqual(len(parts), 2)  # split below CONJURE_PART_BYTES, exact
        self.assertTrue(all(os.path.getsize(os.path.join(out, p)) <= 400000 for p in parts))
        self.assertTrue(ck["opt"]["state"])
        self.assertNotIn("compact", ck)
        self.assertIn("resume: none; config: " + self.cfg, log)
        self.assertNotIn("--compile", log)

    def test_photo_run_resumes_a_given_checkpoint_and_returns_it_compact(self):
        src = os.path.join(self.d, "photos")
        os.makedirs(src)
        write_photos(os.path.join(src, "photos-train-000.tar"), [(60, 40), (40, 70), (30, 30)] * 2, seed=1)
        write_photos(os.path.join(src, "photos-val-000.tar"), [(50, 36), (36, 36)], seed=2)
        for split in ("train", "val"):
            quiet(pack.main, ["--photos", "--data", src, "--split", split, "--max-side", "32",
                              "--out", self.packed])
        train_data = os.path.join(self.packed, "photos-train-s32.tar.gz")
        self.assertEqual([p.shape[:2] for p in quiet(photos.load_photos, train_data, "train", 16)],
                         [(32, 48), (56, 32), (30, 30)] * 2)  # short side ≤ 32, aspect kept
        pre = os.path.join(self.d, "pre")
        quiet(train.main, ["--config", self.cfg, "--crops", "--data", train_data, "--out", pre,
                           "--max-steps", "1", "--batch", "4", "--threads", "1"])
        out = os.path.join(self.d, "out")
        # 200 kB parts: the full checkpoint needs more than 3, so the optimizer moments go.
        r = self.device("photo", out, CONJURE_RESUME=os.path.join(pre, checkpoint.NAME),
                        CONJURE_PART_BYTES="200000")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        ck, parts, log = self.check_outputs(out, 3, True, train_data)
        self.assertEqual(ck["images_seen"], 12)
        self.assertEqual((ck["opt"]["state"], "compact" in ck), ({}, True))
        self.assertIn("steps 1 -> 3", log)

    def test_fails_loudly(self):
        out = os.path.join(self.d, "out")
        r = self.device("photo", out)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no packed training data", r.stderr)
        r = self.device("nonsense", out)
        self.assertIn("unknown model", r.stderr)
        if not torch.cuda.is_available():
            os.makedirs(self.packed)
            for split in ("train", "val"):
                open(os.path.join(self.packed, f"utkface-{split}-r64.tar.gz"), "w").close()
            r = self.device("face64", out, CONJURE_DEVICE="cuda")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("sees no CUDA device", r.stdout + r.stderr)


class TestPackPhotos(unittest.TestCase):
    def test_own_size_members_and_split_safety(self):
        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stderr(io.StringIO()):
            write_photos(os.path.join(d, "photos-train-000.tar"), [(40, 20), (24, 24)])
            quiet(pack.main, ["--photos", "--data", d, "--max-side", "0", "--out", d])
            path = os.path.join(d, "photos-train-full.tar.gz")
            with tarfile.open(path) as tar:
                self.assertEqual(tar.getnames(), ["000000.jpg", "000001.jpg"])
            self.assertEqual([p.shape for p in photos.load_photos(path, "train", 16)],
                             [(20, 40, 3), (24, 24, 3)])
            val = os.path.join(d, "photos-val-000.tar")
            write_photos(val, [(24, 24)])
            with self.assertRaisesRegex(ValueError, "validation"):  # never pack val as train
                pack.main(["--photos", "--data", val, "--out", d])
            with self.assertRaises(SystemExit):
                quiet(pack.main, ["--photos", "--resolution", "64", "--data", d, "--out", d])


if __name__ == "__main__":
    unittest.main()
