// Multi-head softmax attention of the score network (docs/NETWORK.md) and
// its VJP with respect to q, k and v. qkv (3ch, n) holds q in channels
// [0, ch), k in [ch, 2ch), v in [2ch, 3ch); head h uses channels
// [h·d, (h+1)·d) of each. The row of scores of (head h, query i) sits in
// aux or probs at (h·n + i)·n: the forward writes the softmax weights A
// there, the VJP reads them and keeps its dS rows in aux. With n ≤ 256
// positions (16×16) a row per invocation is cheap enough.

struct Params {
    ch: u32,     // channels of q (and of k, v and the output)
    n: u32,      // positions
    heads: u32,
    d: u32,      // channels per head, ch/heads
    scale: f32,  // 1/√d
    total: u32,  // invocations the entry point needs
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read_write> aux: array<f32>;
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read> probs: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

fn flat(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}

// mix_rows sets dst[c, i] = Σ_j aux[row + j]·qkv[src + c, j] for the d
// channels c of a head from c0: the weights of query i's row applied to v
// (src = 2ch, the forward) or to k (src = ch, dq).
fn mix_rows(row: u32, i: u32, c0: u32, src: u32) {
    for (var c = c0; c < c0 + p.d; c++) {
        var s = 0.0;
        for (var j = 0u; j < p.n; j++) {
            s += aux[row + j] * qkv[(src + c) * p.n + j];
        }
        dst[c * p.n + i] = s;
    }
}

// For (h, i), i < n: A[h, i, j] = softmax_j(scale·Σ_{c ∈ head h} q[c, i]·k[c, j]) into aux,
// dst[c, i] = Σ_j A[h, i, j]·v[c, j] for c in head h. total = heads·n.
@compute @workgroup_size(WG)
fn attention_fwd(@builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let t = flat(wid, nwg, lid);
    if (t >= p.total) {
        return;
    }
    let h = t / p.n;
    let i = t % p.n;
    let row = t * p.n;
    let c0 = h * p.d;
    // Subtract the row maximum so that no exponential overflows.
    var mx = -3.0e38;
    for (var j = 0u; j < p.n; j++) {
        var s = 0.0;
        for (var c = c0; c < c0 + p.d; c++) {
            s += qkv[c * p.n + i] * qkv[(p.ch + c) * p.n + j];
        }
        aux[row + j] = s;
        mx = max(mx, s);
    }
    var sum = 0.0;
    for (var j = 0u; j < p.n; j++) {
        let e = exp(p.scale * (aux[row + j] - mx));
        aux[row + j] = e;
        sum += e;
    }
    let inv = 1.0 / sum;
    for (var j = 0u; j < p.n; j++) {
        aux[row + j] *= inv;
    }
    mix_rows(row, i, c0, 2u * p.ch);
}

// For (h, i), with dA[i, j] = Σ_{c ∈ h} dout[c, i]·v[c, j]:
// dS[h, i, j] = A[h, i, j]·(dA[i, j] − Σ_j′ A[h, i, j′]·dA[i, j′])·scale into aux,
// dq[c, i] = dst[c, i] = Σ_j dS[h, i, j]·k[c, j] for c in head h. total = heads·n.
@compute @workgroup_size(WG)
fn attention_vjp_q(@builtin(workgroup_id) wid: vec3<u32>,
                   @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    let t = flat(wid, nwg, lid);
    if (t >= p.total) {
        return;
    }
    let h = t / p.n;
    let i = t % p.n;
    let row = t * p.n;
    let c0 = h * p.d;
    var dot = 0.0;
    for (var j = 0u; j < p.n; j++) {
        var g = 0.0;
        for (var c = c0; c < c0 + p.d; c++) {
            g += dout[c * p.n + i] * qkv[(2u * p.ch + c) * p.n + j];
        }
        aux[row + j] = g;
        dot += probs[row + j] * g;
    }
    for (var j = 0u; j < p.n; j++) {
        aux[row + j] = probs[row + j] * (aux[row + j] - dot) * p.scale;
    }
    mix_rows(row, i, c0, p.ch);
}

// For (c, j), c in head h, after attention_vjp_q has filled dS in aux:
// dk[c, j] = dst[ch + c, j] = Σ_i dS[h, i, j]·q[c, i],
// dv[c, j] = dst[2ch + c, j] = Σ_i A[h, i, j]·dout[c, i]. total = ch·n.
@compute @workgroup_size(WG)
fn attention_vjp_kv(@builtin(workgroup_id) wid: vec3<u32>,
                    @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let t = flat(wid, nwg, lid);
    if (t >= p.total) {
        return;
    }
    let c = t / p.n;
    let j = t % p.n;
    let h = c / p.d;
    var dk = 0.0;
    var dv = 0.0;
    for (var i = 0u; i < p.n; i++) {
        let a = (h * p.n + i) * p.n + j;
        dk += aux[a] * qkv[c * p.n + i];
        dv += probs[a] * dout[c * p.n + i];
    }
    dst[(p.ch + c) * p.n + j] = dk;
    dst[(2u * p.ch + c) * p.n + j] = dv;
}
