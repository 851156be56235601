// GroupNorm (docs/NETWORK.md: biased variance, eps = 1e-5, per-channel
// affine), optionally followed by SiLU, and its exact VJP including the
// gradient through the group statistics. One workgroup per group: the
// channels [g·c/groups, (g+1)·c/groups) of a group are contiguous, so group
// g is the m = (c/groups)·n elements from g·m on. The forward keeps each
// group's mean and 1/std in stats (2 values per group) for the VJP, which
// recomputes the normalised values from src rather than storing them.

struct Params {
    c: u32,       // channels
    n: u32,       // pixels per channel
    groups: u32,  // groups, each of c/groups channels
    silu: u32,    // 1: SiLU after the affine map
    residual: u32, // 1: the VJP adds add (a residual branch's gradient) to its output
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read_write> stats: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read> add: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

// group returns the group a workgroup handles; it is uniform, so the
// bounds guard on it keeps the barriers in uniform control flow.
fn group(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.y * nwg.x + wid.x;
}

// total returns the sum of v over the workgroup (WG is a power of two).
fn total(v: f32, lid: u32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid] += red[lid + s];
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

fn sigmoid(v: f32) -> f32 {
    return 1.0 / (1.0 + exp(-v));
}

// With μ_g, σ²_g the mean and biased variance of group g's m values and
// r_g = 1/√(σ²_g + 1e-5), for element (ch, k) of group g:
// y[ch, k] = gamma[ch]·(src[ch, k] − μ_g)·r_g + beta[ch];  dst = y, or y·sigmoid(y) if silu;
// stats[2g] = μ_g, stats[2g + 1] = r_g.
@compute @workgroup_size(WG)
fn groupnorm_fwd(@builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let g = group(wid, nwg);
    if (g >= p.groups) {
        return;
    }
    let m = p.c / p.groups * p.n;
    let base = g * m;
    var s = 0.0;
    for (var i = lid; i < m; i += WG) {
        s += src[base + i];
    }
    let mean = total(s, lid) / f32(m);
    // Two passes, as the CPU reference: no cancellation in the variance.
    var ss = 0.0;
    for (var i = lid; i < m; i += WG) {
        let d = src[base + i] - mean;
        ss += d * d;
    }
    let rstd = 1.0 / sqrt(total(ss, lid) / f32(m) + 1e-5);
    if (lid == 0u) {
        stats[2u * g] = mean;
        stats[2u * g + 1u] = rstd;
    }
    // Channel by channel, so that gamma and beta are loaded once per
    // channel, not per element (on lavapipe every load is a loop).
    let cpg = p.c / p.groups;
    for (var cc = 0u; cc < cpg; cc++) {
        let ch = g * cpg + cc;
        let ga = gamma[ch];
        let be = beta[ch];
        let row = base + cc * p.n;
        for (var k = lid; k < p.n; k += WG) {
            var y = ga * ((src[row + k] - mean) * rstd) + be;
            if (p.silu == 1u) {
                y = y * sigmoid(y);
            }
            dst[row + k] = y;
        }
    }
}

// With x̂ = (src − μ_g)·r_g, y = gamma·x̂ + beta, e = dy·silu′(y) if silu
// (silu′(y) = σ(y)·(1 + y·(1 − σ(y)))) else dy, d = gamma·e, and the means
// over group g's m elements:
// dst[ch, k] = r_g·(d[ch, k] − mean(d) − x̂[ch, k]·mean(d·x̂)) (+ add[ch, k]).
@compute @workgroup_size(WG)
fn groupnorm_vjp(@builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let g = group(wid, nwg);
    if (g >= p.groups) {
        return;
    }
    let m = p.c / p.groups * p.n;
    let base = g * m;
    let mean = stats[2u * g];
    let rstd = stats[2u * g + 1u];
    // Channel by channel, so that gamma and beta are loaded once per
    // channel, not per element (on lavapipe every load is a loop).
    let cpg = p.c / p.groups;
    var sd = 0.0;
    var sdx = 0.0;
    for (var cc = 0u; cc < cpg; cc++) {
        let ch = g * cpg + cc;
        let ga = gamma[ch];
        let be = beta[ch];
        let row = base + cc * p.n;
        for (var k = lid; k < p.n; k += WG) {
            let xh = (src[row + k] - mean) * rstd;
            let d = ga * grad_in(row + k, ga * xh + be);
            sd += d;
            sdx += d * xh;
        }
    }
    let md = total(sd, lid) / f32(m);
    let mdx = total(sdx, lid) / f32(m);
    for (var cc = 0u; cc < cpg; cc++) {
        let ch = g * cpg + cc;
        let ga = gamma[ch];
        let be = beta[ch];
        let row = base + cc * p.n;
        for (var k = lid; k < p.n; k += WG) {
            let xh = (src[row + k] - mean) * rstd;
            var v = rstd * (ga * grad_in(row + k, ga * xh + be) - md - xh * mdx);
            if (p.residual == 1u) {
                v += add[row + k];
            }
            dst[row + k] = v;
        }
    }
}

// grad_in returns the gradient reaching the affine output y of element i:
// dy, through SiLU if silu.
fn grad_in(i: u32, y: f32) -> f32 {
    if (p.silu == 0u) {
        return dy[i];
    }
    let s = sigmoid(y);
    return dy[i] * s * (1.0 + y * (1.0 - s));
}
