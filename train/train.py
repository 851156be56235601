"""Train the ε-prediction U-Net with the VP schedule: on UTKFace faces, or with --crops on
random multi-scale crops of natural photos (the local photo prior).

    python -m train.train --config train/configs/face64.json --out train/runs/face64 --minutes 90
    python -m train.train --config train/configs/photo64-cpu.json --crops --data ../shared/data/photos \
        --out train/runs/photo64-cpu --minutes 120

Loss: τ ~ U(τ_min, 1), ε ~ N(0, I), x_τ = μ_τ x₀ + σ_τ ε, MSE(ε_θ(x_τ, τ), ε). AdamW with
linear warm-up, gradient clipping, EMA of the weights; bf16 autocast, channels_last and
TF32 on CUDA (bf16 on the CPU with --bf16) (torch.compile with --compile). The run directory gets checkpoint.pt
(written atomically every --ckpt-minutes and at the end), log.csv and config.json;
progress goes to stderr. A resumed run keeps its optimisation settings unless given.

--minutes is this invocation's wall-clock budget for the training loop (data decoding and
start-up come on top); --max-steps is the run's total step count (so rerunning the same
command with --resume finishes an interrupted run).
SIGINT/SIGTERM stop after the current step and save a checkpoint.
"""

import argparse
import copy
import csv
import json
import math
import os
import signal
import sys
import time

import torch
import torch.nn.functional as F

from . import checkpoint, config as config_mod, data, photos, schedule
from .net import UNet, param_count

TAU_MIN = 1e-3
# Optimisation settings: a resumed run keeps its checkpoint's values unless given again.
RUN_DEFAULTS = {"batch": 32, "lr": 2e-4, "warmup": 500, "weight_decay": 0.0, "ema": 0.999,
                "grad_clip": 1.0, "seed": 0, "limit": None, "crops": False,
                "tau_dist": "uniform", "weighting": "none"}
# Where τ is drawn: "uniform" on (TAU_MIN, 1); "restore" puts RESTORE_LOW of the mass on
# (TAU_MIN, 0.5), where restorations start (τ₀ ≤ 0.4 for most presets), and the rest on
# [0.5, 1) so a τ₀ = 0.7 preset still meets trained noise levels.
TAU_DISTS = ("uniform", "restore")
RESTORE_LOW = 0.85
# Loss weightings of the ε-MSE per example: "none", or Min-SNR-γ (Hang et al. 2023) for
# ε-prediction, min(SNR, γ)/SNR with SNR = μ²/σ².
WEIGHTINGS = ("none", "min-snr")
MIN_SNR_GAMMA = 5.0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="network config JSON (required unless resuming)")
    p.add_argument("--data", default=data.DEFAULT_DATA,
                   help="shard directory (UTKFace, or photos with --crops), or a packed "
                        ".tar.gz/.npy (python -m train.pack)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--minutes", type=float, default=60.0, help="wall-clock budget of this invocation")
    p.add_argument("--cpu-minutes", type=float,
                   help="also stop when this process has used this much CPU time (all threads): "
                        "equal budgets for runs compared on a shared machine")
    p.add_argument("--max-steps", type=int, help="stop when the run reaches this many steps")
    d = RUN_DEFAULTS
    p.add_argument("--batch", type=int, help=f"default {d['batch']}")
    p.add_argument("--lr", type=float, help=f"peak AdamW learning rate, default {d['lr']}")
    p.add_argument("--warmup", type=int, help=f"linear learning-rate warm-up steps, default {d['warmup']}")
    p.add_argument("--weight-decay", type=float, help=f"AdamW weight decay, default {d['weight_decay']}")
    p.add_argument("--ema", type=float, help=f"EMA decay of the weights, default {d['ema']}")
    p.add_argument("--grad-clip", type=float, help=f"gradient-norm clip, default {d['grad_clip']}")
    p.add_argument("--seed", type=int, help=f"default {d['seed']}")
    p.add_argument("--limit", type=int, help="use only the first N training images (tests)")
    p.add_argument("--tau-dist", choices=TAU_DISTS, help=f"where τ is drawn, default {d['tau_dist']}")
    p.add_argument("--weighting", choices=WEIGHTINGS,
                   help=f"per-example loss weight, default {d['weighting']} (min-snr: γ = {MIN_SNR_GAMMA})")
    p.add_argument("--crops", action="store_const", const=True,
                   help="train on random multi-scale crops of whole photos (the photo prior: "
                        "--data ../shared/data/photos) instead of centre squares")
    p.add_argument("--cache-dir", default=data.DEFAULT_CACHE, help="where decoded splits are cached")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                   help="CPU threads for torch (default: all available)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (PyTorch 2.x)")
    p.add_argument("--bf16", action="store_true",
                   help="bfloat16 autocast on the CPU too (AVX-512 BF16: ≈1.4× the images/s of "
                        "float32, train.bench); always on with CUDA")
    p.add_argument("--resume", action="store_true",
                   help="continue from the run directory's checkpoint (start fresh if there is none)")
    p.add_argument("--log-every", type=int, default=50, help="steps between log lines")
    p.add_argument("--ckpt-minutes", type=float, default=5.0, help="minutes between checkpoints")
    return p.parse_args(argv)


def setup_device(args):
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        # TF32 for the fp32 parts autocast leaves (optimizer-side matmuls, GroupNorm-adjacent
        # convs are bf16 already); cudnn autotuning pays off with fixed shapes.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    if args.compile and not hasattr(torch, "compile"):
        sys.exit(f"--compile needs PyTorch 2.x; this is {torch.__version__}")
    return device


def cpu_state(module):
    return {k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()}


class Run:
    """Model, EMA, optimizer, RNG streams and counters of one training run."""

    def __init__(self, args, device):
        self.args, self.device = args, device
        ckpt_path = os.path.join(args.out, checkpoint.NAME)
        ck = None
        if os.path.exists(ckpt_path):
            if not args.resume:
                sys.exit(f"{ckpt_path} exists: pass --resume to continue it, or choose another --out")
            ck = checkpoint.load(ckpt_path)
        self.cfg = self._config(ck)
        for k, v in RUN_DEFAULTS.items():
            if getattr(args, k) is None:
                setattr(args, k, ck["args"].get(k, v) if ck is not None else v)
        torch.manual_seed(args.seed)  # the initial weights; later randomness uses the generators below
        self.model = UNet(self.cfg).to(device)
        if device.type == "cuda":
            self.model = self.model.to(memory_format=torch.channels_last)
        self.ema = copy.deepcopy(self.model).requires_grad_(False)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=args.lr,
                                     weight_decay=args.weight_decay)
        self.batch_gen = torch.Generator().manual_seed(args.seed)
        self.noise_gen = torch.Generator(device=device).manual_seed(args.seed + 1)
        self.step, self.images_seen, self.elapsed_before, self.loss_ema = 0, 0, 0.0, None
        # The step the learning-rate warm-up counts from: 0, or where a compact checkpoint
        # (no optimizer moments) was resumed, since Adam's first steps from zero moments
        # need the warm-up again.
        self.warm_from = 0
        if ck is not None:
            self._restore(ck)

    def _config(self, ck):
        given = config_mod.load(self.args.config) if self.args.config else None
        if ck is None:
            if given is None:
                sys.exit("--config is required for a new run")
            return given
        if given is not None and config_mod.dumps(given) != config_mod.dumps(ck["config"]):
            sys.exit(f"--config {self.args.config} differs from the checkpoint's config "
                     f"{config_mod.dumps(ck['config'])}; drop --config or use another --out")
        return ck["config"]

    def _restore(self, ck):
        # A compact checkpoint (train.compact) keeps the EMA weights only: training goes on
        # from them, with fresh optimizer moments and a new warm-up.
        self.model.load_state_dict(ck.get("model", ck["ema"]))
        self.ema.load_state_dict(ck["ema"])
        self.step, self.images_seen = ck["step"], ck["images_seen"]
        self.warm_from = ck.get("warm_from", 0)
        if "opt" in ck and ck["opt"]["state"]:
            self.opt.load_state_dict(ck["opt"])
        elif self.warm_from < self.step:
            self.warm_from = self.step
        self.elapsed_before = ck["elapsed"]
        if ck["loss_ema"] is not None:
            self.loss_ema = torch.tensor(ck["loss_ema"], device=self.device)
        self.batch_gen.set_state(ck["rng"]["batch"])
        if ck["rng"]["noise_device"] == self.device.type:
            self.noise_gen.set_state(ck["rng"]["noise"])
        else:  # a device's generator state does not transfer to another kind of device
            self.noise_gen.manual_seed(self.args.seed + 1 + self.step)
        print(f"resumed {self.args.out} at step {self.step} ({self.images_seen} images)", file=sys.stderr)

    def save(self, elapsed):
        checkpoint.save(os.path.join(self.args.out, checkpoint.NAME), {
            "model": cpu_state(self.model), "ema": cpu_state(self.ema),
            "opt": self.opt.state_dict(), "step": self.step, "images_seen": self.images_seen,
            "elapsed": elapsed, "config": self.cfg, "args": vars(self.args),
            "loss_ema": None if self.loss_ema is None else float(self.loss_ema),
            "warm_from": self.warm_from,
            "torch": torch.__version__,
            "rng": {"batch": self.batch_gen.get_state(), "noise": self.noise_gen.get_state(),
                    "noise_device": self.device.type}})

    def update_ema(self):
        # Shorter effective horizon early on, so a short run's EMA is not dominated by
        # the random initialisation.
        d = min(self.args.ema, (1 + self.step) / (10 + self.step))
        ema_p = list(self.ema.parameters())
        torch._foreach_mul_(ema_p, d)  # one fused launch per list instead of one per tensor
        torch._foreach_add_(ema_p, [p.detach() for p in self.model.parameters()], alpha=1 - d)


def draw_tau(n, gen, dist="uniform"):
    """n training times from the named distribution (TAU_DISTS), on the CPU."""
    u = torch.rand(n, generator=gen)
    if dist == "uniform":
        return TAU_MIN + (1 - TAU_MIN) * u
    if dist == "restore":
        v = torch.rand(n, generator=gen)
        low = TAU_MIN + (0.5 - TAU_MIN) * v
        high = 0.5 + 0.5 * v
        return torch.where(u < RESTORE_LOW, low, high)
    raise ValueError(f"unknown τ distribution {dist!r} (want one of {TAU_DISTS})")


def loss_weight(tau, weighting="none"):
    """Per-example weight of the ε-MSE at τ (WEIGHTINGS)."""
    if weighting == "none":
        return torch.ones_like(tau)
    if weighting == "min-snr":
        mu, sigma = schedule.mu_sigma(tau)
        snr = (mu / sigma) ** 2
        return torch.clamp(snr, max=MIN_SNR_GAMMA) / snr
    raise ValueError(f"unknown weighting {weighting!r} (want one of {WEIGHTINGS})")


def loss_fn(model, x0, batch_gen, noise_gen, device, autocast=None, tau_dist="uniform",
            weighting="none"):
    """Weighted VP ε-prediction loss at τ drawn from tau_dist (default U(TAU_MIN, 1)); the
    forward pass runs under bfloat16 autocast when autocast is true (default: on CUDA only)."""
    n = x0.shape[0]
    tau = draw_tau(n, batch_gen, tau_dist).to(device)
    eps = torch.randn(x0.shape, generator=noise_gen, device=device)
    mu, sigma = schedule.mu_sigma(tau)
    xt = mu[:, None, None, None] * x0 + sigma[:, None, None, None] * eps
    if device.type == "cuda":
        xt = xt.contiguous(memory_format=torch.channels_last)
    if autocast is None:
        autocast = device.type == "cuda"
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=autocast):
        pred = model(xt, tau)
    per = ((pred.float() - eps) ** 2).mean(dim=(1, 2, 3))
    return (loss_weight(tau, weighting) * per).mean()


class Logger:
    """log.csv in the run directory plus a progress line on stderr."""

    FIELDS = ["step", "images_seen", "loss", "loss_ema", "lr", "elapsed_s", "images_per_s"]

    def __init__(self, path):
        new = not os.path.exists(path)
        self.f = open(path, "a", newline="")
        self.w = csv.DictWriter(self.f, self.FIELDS)
        if new:
            self.w.writeheader()

    def log(self, row, budget_s):
        self.w.writerow(row)
        self.f.flush()
        print(f"step {row['step']} | {row['images_seen']} img | loss {row['loss']:.4f} "
              f"(ema {row['loss_ema']:.4f}) | lr {row['lr']:.2e} | {row['images_per_s']:.1f} img/s"
              f" | {row['elapsed_s'] / 60:.1f} min total, budget {budget_s / 60:.0f} min",
              file=sys.stderr)


def main(argv=None):
    args = parse_args(argv)
    device = setup_device(args)
    os.makedirs(args.out, exist_ok=True)
    run = Run(args, device)
    if args.crops:
        sampler = photos.CropSampler(
            photos.load_photos(args.data, "train", run.cfg["resolution"], args.limit),
            run.cfg["resolution"], device)
    else:
        images = data.load_split(args.data, "train", run.cfg["resolution"], args.limit, args.cache_dir)
        sampler = data.Sampler(images, device)
    step_model = torch.compile(run.model) if args.compile else run.model
    print(f"train: {param_count(run.model):,} parameters, {len(sampler)} images, device {device}, "
          f"threads {args.threads}, batch {args.batch}, config {config_mod.dumps(run.cfg)}",
          file=sys.stderr)

    stop = {"signal": None}
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, _f: stop.update(signal=s))
    logger = Logger(os.path.join(args.out, "log.csv"))
    budget_s = args.minutes * 60
    cpu_budget_s = math.inf if args.cpu_minutes is None else args.cpu_minutes * 60
    t0 = last_ckpt = last_log = time.time()
    c0 = time.process_time()
    loss_sum, n_sum, images_at_log = 0.0, 0, run.images_seen
    max_steps = args.max_steps if args.max_steps is not None else math.inf

    def within_budget():
        return time.time() - t0 < budget_s and time.process_time() - c0 < cpu_budget_s

    while run.step < max_steps and within_budget() and stop["signal"] is None:
        lr = args.lr * min(1.0, (run.step + 1 - run.warm_from) / max(1, args.warmup))
        for g in run.opt.param_groups:
            g["lr"] = lr
        x0 = sampler.batch(args.batch, run.batch_gen)
        loss = loss_fn(step_model, x0, run.batch_gen, run.noise_gen, device,
                       autocast=args.bf16 or device.type == "cuda", tau_dist=args.tau_dist,
                       weighting=args.weighting)
        run.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), args.grad_clip)
        run.opt.step()
        run.update_ema()
        run.step += 1
        run.images_seen += args.batch
        # Both stay on the device: no host sync per step.
        loss_sum, n_sum = loss_sum + loss.detach(), n_sum + 1
        run.loss_ema = loss.detach() if run.loss_ema is None else 0.99 * run.loss_ema + 0.01 * loss.detach()

        now = time.time()
        if run.step % args.log_every == 0 or run.step >= max_steps:
            mean = float(loss_sum) / n_sum
            if not math.isfinite(mean):
                sys.exit(f"loss is {mean} at step {run.step}: lower --lr or check the data; "
                         "the last checkpoint is untouched")
            logger.log({"step": run.step, "images_seen": run.images_seen, "loss": mean,
                        "loss_ema": float(run.loss_ema), "lr": lr,
                        "elapsed_s": round(run.elapsed_before + now - t0, 1),
                        "images_per_s": (run.images_seen - images_at_log) / max(now - last_log, 1e-9)},
                       budget_s)
            loss_sum, n_sum, images_at_log, last_log = 0.0, 0, run.images_seen, now
        if now - last_ckpt >= args.ckpt_minutes * 60:
            run.save(run.elapsed_before + now - t0)
            last_ckpt = now

    run.save(run.elapsed_before + time.time() - t0)
    why = (f"signal {stop['signal']}" if stop["signal"] is not None else
           "max steps" if run.step >= max_steps else "time budget")
    print(f"train: stopped at step {run.step} ({why}) after {(time.time() - t0) / 60:.1f} min, "
          f"{(time.process_time() - c0) / 60:.1f} CPU min; checkpoint {args.out}/{checkpoint.NAME}",
          file=sys.stderr)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(run.cfg, f)


if __name__ == "__main__":
    main()
