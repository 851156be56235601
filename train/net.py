"""The U-Net of docs/NETWORK.md; module attribute names give the exact parameter names."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from . import config as config_mod


def time_features(tau, channels, time_scale, dtype):
    """Sinusoidal features of t = time_scale·τ: [cos(t·f_k)…, sin(t·f_k)…], cos first.

    Computed in float64 whatever the model's dtype: t reaches ~1000, where float32
    rounding of t·f_0 alone would cost ~3e-5 in cos/sin, a visible share of the 1e-4
    budget the Go implementation is held to. The result is then cast to `dtype`.
    """
    half = channels // 2
    t = tau.to(torch.float64) * float(time_scale)
    k = torch.arange(half, dtype=torch.float64, device=tau.device)
    freqs = torch.exp(-math.log(10000.0) * k / half)
    args = t[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1).to(dtype)


class TimeEmbedding(nn.Module):
    """temb = lin2(SiLU(lin1(features(τ))))."""

    def __init__(self, channels, time_scale):
        super().__init__()
        self.channels, self.time_scale = channels, time_scale
        self.lin1 = nn.Linear(channels, 4 * channels)
        self.lin2 = nn.Linear(4 * channels, 4 * channels)

    def forward(self, tau):
        e = time_features(tau, self.channels, self.time_scale, self.lin1.weight.dtype)
        return self.lin2(F.silu(self.lin1(e)))


class GroupNorm32(nn.GroupNorm):
    """GroupNorm computed at least in its parameters' precision, returned in the input's dtype.

    Under CPU bfloat16 autocast a conv hands GroupNorm a bfloat16 input that PyTorch 1.13's
    CPU kernel refuses beside float32 parameters; float32 statistics are what autocast
    uses on CUDA anyway. The parameters and their names are nn.GroupNorm's."""

    def forward(self, x):
        wide = x.to(torch.promote_types(x.dtype, self.weight.dtype))  # bf16 → f32; f64 stays
        return F.group_norm(wide, self.num_groups, self.weight, self.bias, self.eps).to(x.dtype)


def _norm(ch, groups):
    return GroupNorm32(groups, ch, eps=1e-5)


class ResBlock(nn.Module):
    """GN→SiLU→Conv3×3, + Linear(SiLU(temb)), GN→SiLU→Conv3×3, plus (1×1) skip."""

    def __init__(self, cin, cout, temb_ch, groups):
        super().__init__()
        self.norm1 = _norm(cin, groups)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb_ch, cout)
        self.norm2 = _norm(cout, groups)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, silu_temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(silu_temb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (x if self.skip is None else self.skip(x)) + h


class Attention(nn.Module):
    """Multi-head self-attention over pixels with a residual connection."""

    def __init__(self, ch, heads, groups):
        super().__init__()
        self.heads = heads
        self.norm = _norm(ch, groups)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.out = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        b, c, hh, ww = x.shape
        d = c // self.heads
        # Channel s·ch + n·d + j is component j of head n of q (s=0), k (s=1) or v (s=2).
        qkv = self.qkv(self.norm(x)).reshape(b, 3, self.heads, d, hh * ww)
        q, k, v = qkv.unbind(1)                                   # (b, heads, d, N)
        scores = torch.matmul(q.transpose(-1, -2), k) / math.sqrt(d)  # (b, heads, i, j)
        attn = scores.softmax(dim=-1)
        o = torch.matmul(v, attn.transpose(-1, -2))               # (b, heads, d, i)
        return x + self.out(o.reshape(b, c, hh, ww))


class Level(nn.Module):
    """One resolution level: ResBlocks, optional attention, optional resampling conv."""

    def __init__(self, blocks, attn, resample_name, ch):
        super().__init__()
        self.res = nn.ModuleList(blocks)
        self.attn = nn.ModuleList(attn) if attn else None
        self.down = self.up = None
        if resample_name == "down":
            self.down = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        elif resample_name == "up":
            self.up = nn.Conv2d(ch, ch, 3, padding=1)


class Middle(nn.Module):
    """res1, attention (unless the config drops it: a local prior), res2."""

    def __init__(self, ch, temb_ch, groups, heads, attn):
        super().__init__()
        self.res1 = ResBlock(ch, ch, temb_ch, groups)
        self.attn = Attention(ch, heads, groups) if attn else None
        self.res2 = ResBlock(ch, ch, temb_ch, groups)


class UNet(nn.Module):
    """ε_θ(x, τ): x (B, C, R, R) in [-1, 1]-ish, τ (B,) floats in (0, 1]."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = config_mod.validate(dict(cfg))
        ch, mult, nres = cfg["channels"], cfg["mult"], cfg["res_blocks"]
        groups, heads, temb_ch = cfg["groups"], cfg["heads"], 4 * ch
        levels = len(mult)
        sizes = config_mod.level_sizes(cfg)
        attn_at = set(cfg["attn_resolutions"])

        self.s2d = config_mod.s2d(cfg)
        stem = cfg["in_channels"] * self.s2d * self.s2d
        self.time = TimeEmbedding(ch, cfg["time_scale"])
        self.conv_in = nn.Conv2d(stem, ch, 3, padding=1)

        skips, cur, down = [ch], ch, []
        for l in range(levels):
            out = ch * mult[l]
            blocks, attn = [], []
            for _ in range(nres):
                blocks.append(ResBlock(cur, out, temb_ch, groups))
                cur = out
                if sizes[l] in attn_at:
                    attn.append(Attention(cur, heads, groups))
                skips.append(cur)
            down.append(Level(blocks, attn, "down" if l < levels - 1 else None, cur))
            if l < levels - 1:
                skips.append(cur)
        self.down = nn.ModuleList(down)

        self.mid = Middle(cur, temb_ch, groups, heads, config_mod.mid_attn(cfg))

        up = [None] * levels
        for l in reversed(range(levels)):
            out = ch * mult[l]
            blocks, attn = [], []
            for _ in range(nres + 1):
                blocks.append(ResBlock(cur + skips.pop(), out, temb_ch, groups))
                cur = out
                if sizes[l] in attn_at:
                    attn.append(Attention(cur, heads, groups))
            up[l] = Level(blocks, attn, "up" if l > 0 else None, cur)
        self.up = nn.ModuleList(up)

        self.norm_out = _norm(cur, groups)
        self.conv_out = nn.Conv2d(cur, stem, 3, padding=1)

    def forward(self, x, tau):
        silu_temb = F.silu(self.time(tau))
        if self.s2d > 1:
            x = F.pixel_unshuffle(x, self.s2d)
        h = self.conv_in(x)
        stack = [h]
        for level in self.down:
            for i, block in enumerate(level.res):
                h = block(h, silu_temb)
                if level.attn is not None:
                    h = level.attn[i](h)
                stack.append(h)
            if level.down is not None:
                h = level.down(h)
                stack.append(h)
        h = self.mid.res1(h, silu_temb)
        if self.mid.attn is not None:
            h = self.mid.attn(h)
        h = self.mid.res2(h, silu_temb)
        for level in reversed(self.up):
            for i, block in enumerate(level.res):
                h = block(torch.cat([h, stack.pop()], dim=1), silu_temb)
                if level.attn is not None:
                    h = level.attn[i](h)
            if level.up is not None:
                h = level.up(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        out = self.conv_out(F.silu(self.norm_out(h)))
        return F.pixel_shuffle(out, self.s2d) if self.s2d > 1 else out


def param_count(model):
    return sum(p.numel() for p in model.parameters())
