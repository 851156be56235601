// GroupNorm (docs/NETWORK.md: biased variance, eps = 1e-5, per-channel
// affine), optionally followed by SiLU, and its exact VJP including the
// gradient through the group statistics. Tensors hold a batch of
// samples channel-major, [c][batch][n], and the statistics are per sample:
// one workgroup per (group g, sample b), whose m = (c/groups)·n elements
// are the rows ch·batch + b of n pixels for the channels
// ch ∈ [g·c/groups, (g+1)·c/groups). The forward keeps each one's mean and
// 1/std in stats (2 values at 2·(g·batch + b)) for the VJP, which
// recomputes the normalised values from src rather than storing them.

struct Params {
    c: u32,       // channels
    n: u32,       // pixels per channel
    groups: u32,  // groups, each of c/groups channels
    silu: u32,    // 1: SiLU after the affine map
    residual: u32, // 1: the VJP adds add (a residual branch's gradient) to its output
    batch: u32,   // samples
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

// unit returns the index g·batch + b of the (group, sample) a workgroup
// handles; it is uniform, so the bounds guard on it keeps the barriers in
// uniform control flow.
fn unit(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.y * nwg.x + wid.x;
}

// row returns the offset of channel cc of group g in sample b.
fn row(u: u32, cc: u32) -> u32 {
    let g = u / p.batch;
    return ((g * (p.c / p.groups) + cc) * p.batch + u % p.batch) * p.n;
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

// With μ_u, σ²_u the mean and biased variance of the m values of unit
// u = g·batch + b (group g of sample b) and r_u = 1/√(σ²_u + 1e-5), for
// each of its elements (ch, k):
// y[ch, k] = gamma[ch]·(src[ch, k] − μ_u)·r_u + beta[ch];  dst = y, or y·sigmoid(y) if silu;
// stats[2u] = μ_u, stats[2u + 1] = r_u.
@compute @workgroup_size(WG)
fn groupnorm_fwd(@builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let u = unit(wid, nwg);
    if (u >= p.groups * p.batch) {
        return;
    }
    let cpg = p.c / p.groups;
    let m = cpg * p.n;
    var s = 0.0;
    for (var cc = 0u; cc < cpg; cc++) {
        let r = row(u, cc);
        for (var k = lid; k < p.n; k += WG) {
            s += src[r + k];
        }
    }
    let mean = total(s, lid) / f32(m);
    // Two passes, as the CPU reference: no cancellation in the variance.
    var ss = 0.0;
    for (var cc = 0u; cc < cpg; cc++) {
        let r = row(u, cc);
        for (var k = lid; k < p.n; k += WG) {
            let d = src[r + k] - mean;
            ss += d * d;
        }
    }
    let rstd = 1.0 / sqrt(total(ss, lid) / f32(m) + 1e-5);
    if (lid == 0u) {
        stats[2u * u] = mean;
        stats[2u * u + 1u] = rstd;
    }
    // Channel by channel, so that gamma and beta are loaded once per
    // channel, not per element (on lavapipe every load is a loop).
    let g = u / p.batch;
    for (var cc = 0u; cc < cpg; cc++) {
        let ch = g * cpg + cc;
        let ga = gamma[ch];
        let be = beta[ch];
        let r = row(u, cc);
        for (var k = lid; k < p.n; k += WG) {
            var y = ga * ((src[r + k] - mean) * rstd) + be;
            if (p.silu == 1u) {
                y = y * sigmoid(y);
            }
            dst[r + k] = y;
        }
    }
}

// With x̂ = (src − μ_u)·r_u, y = gamma·x̂ + beta, e = dy·silu′(y) if silu
// (silu′(y) = σ(y)·(1 + y·(1 − σ(y)))) else dy, d = gamma·e, and the means
// over unit u's m elements:
// dst[ch, k] = r_u·(d[ch, k] − mean(d) − x̂[ch, k]·mean(d·x̂)) (+ add[ch, k]).
@compute @workgroup_size(WG)
fn groupnorm_vjp(@builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let u = unit(wid, nwg);
    if (u >= p.groups * p.batch) {
        return;
    }
    let cpg = p.c / p.groups;
    let m = cpg * p.n;
    let g = u / p.batch;
    let mean = stats[2u * u];
    let rstd = stats[2u * u + 1u];
    // Channel by channel, so that gamma and beta are loaded once per
    // channel, not per element (on lavapipe every load is a loop).
    var sd = 0.0;
    var sdx = 0.0;
    for (var cc = 0u; cc < cpg; cc++) {
        let ch = g * cpg + cc;
        let ga = gamma[ch];
        let be = beta[ch];
        let r = row(u, cc);
        for (var k = lid; k < p.n; k += WG) {
            let xh = (src[r + k] - mean) * rstd;
            let d = ga * grad_in(r + k, ga * xh + be);
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
        let r = row(u, cc);
        for (var k = lid; k < p.n; k += WG) {
            let xh = (src[r + k] - mean) * rstd;
            var v = rstd * (ga * grad_in(r + k, ga * xh + be) - md - xh * mdx);
            if (p.residual == 1u) {
                v += add[r + k];
            }
            dst[r + k] = v;
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
