"""The network config of docs/NETWORK.md: load, validate, serialise."""

import json

# Every key NETWORK.md defines; no others are accepted, so a typo cannot pass silently.
KEYS = ("resolution", "in_channels", "channels", "mult", "res_blocks",
        "attn_resolutions", "groups", "heads", "time_scale")
# Keys a config may leave out, with the value their absence means; they are written
# only when they differ from it, so older weight files keep their exact config text.
OPTIONAL = {"mid_attn": True, "s2d": 1}


class ConfigError(ValueError):
    """A config that violates NETWORK.md's validation rules."""


def _positive_int(cfg, key):
    v = cfg[key]
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ConfigError(f"config {key!r} must be a positive integer, got {v!r}")
    return v


def _positive_int_list(cfg, key, allow_empty):
    v = cfg[key]
    if not isinstance(v, list) or (not v and not allow_empty):
        raise ConfigError(f"config {key!r} must be a {'' if allow_empty else 'non-empty '}"
                          f"list of positive integers, got {v!r}")
    for x in v:
        if isinstance(x, bool) or not isinstance(x, int) or x <= 0:
            raise ConfigError(f"config {key!r} must hold positive integers, got {x!r} in {v!r}")
    return v


def s2d(cfg):
    """The space-to-depth factor of the stem (NETWORK.md: absent means 1, none): with 2,
    the image is pixel-unshuffled to 4·in_channels at R/2 before conv_in and conv_out's
    4·in_channels are pixel-shuffled back, so every level runs at a quarter of the pixels."""
    return cfg.get("s2d", OPTIONAL["s2d"])


def level_sizes(cfg):
    """Spatial size at each U-Net level: R/s2d, R/(2·s2d), …"""
    return [(cfg["resolution"] // s2d(cfg)) >> l for l in range(len(cfg["mult"]))]


def validate(cfg):
    """Check cfg against NETWORK.md and return it; raise ConfigError saying what to fix."""
    if not isinstance(cfg, dict):
        raise ConfigError(f"config must be a JSON object, got {type(cfg).__name__}")
    missing = [k for k in KEYS if k not in cfg]
    unknown = sorted(set(cfg) - set(KEYS) - set(OPTIONAL))
    if missing:
        raise ConfigError(f"config is missing {missing}; NETWORK.md needs all of {list(KEYS)}")
    if unknown:
        raise ConfigError(f"config has unknown keys {unknown}; allowed: {list(KEYS) + list(OPTIONAL)}")
    if not isinstance(cfg.get("mid_attn", True), bool):
        raise ConfigError(f"config 'mid_attn' must be true or false, got {cfg['mid_attn']!r}")
    if cfg.get("s2d", 1) not in (1, 2) or isinstance(cfg.get("s2d", 1), bool):
        raise ConfigError(f"config 's2d' must be 1 or 2, got {cfg['s2d']!r}")
    for key in ("resolution", "in_channels", "channels", "res_blocks", "groups", "heads"):
        _positive_int(cfg, key)
    mult = _positive_int_list(cfg, "mult", allow_empty=False)
    attn = _positive_int_list(cfg, "attn_resolutions", allow_empty=True)
    ts = cfg["time_scale"]
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not ts > 0:
        raise ConfigError(f"config 'time_scale' must be a positive number, got {ts!r}")

    res, ch = cfg["resolution"], cfg["channels"]
    div = 2 ** (len(mult) - 1) * s2d(cfg)
    if res % div:
        raise ConfigError(f"resolution {res} must be divisible by 2^(len(mult)-1)·s2d = {div}")
    if ch % 2:
        raise ConfigError(f"channels {ch} must be even (the time embedding is half cos, half sin)")
    # conv_in's output (width `channels`) is normalised by the first ResBlock and
    # concatenated into the last up level, so `channels` itself must split into groups.
    for w in [ch] + [ch * m for m in mult]:
        if w % cfg["groups"]:
            raise ConfigError(f"width {w} (channels·mult) is not divisible by groups {cfg['groups']}")
    for w in [ch * m for m in mult]:
        if w % cfg["heads"]:
            raise ConfigError(f"width {w} (channels·mult) is not divisible by heads {cfg['heads']}")
    sizes = level_sizes(cfg)
    for a in attn:
        if a not in sizes:
            raise ConfigError(f"attn_resolutions entry {a} is not a level size {sizes}; "
                              "it would never be used")
    return cfg


def load(path):
    """Read and validate a JSON config file."""
    with open(path) as f:
        try:
            cfg = json.load(f)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}: not valid JSON: {e}") from None
    try:
        return validate(cfg)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def mid_attn(cfg):
    """Whether the middle block has its attention (NETWORK.md: absent means true)."""
    return cfg.get("mid_attn", OPTIONAL["mid_attn"])


def dumps(cfg):
    """Canonical one-line JSON (key order of NETWORK.md) for file metadata; optional keys
    only when they differ from their default."""
    out = {k: cfg[k] for k in KEYS}
    out.update({k: cfg[k] for k, d in OPTIONAL.items() if k in cfg and cfg[k] != d})
    return json.dumps(out, separators=(",", ":"))
