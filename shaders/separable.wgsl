// The maps of a separable operator (package operator: BicubicSR, Blur,
// Dense), which act on each channel X as L·X·Rᵀ: batched strided matrix
// products for the two passes L·X and (L·X)·Rᵀ, and a spectral gain g(HHᵀ)
// (the noisy inverse (r2·HHᵀ + σ²I)⁻¹, the noisy sampler's coefficients) in
// the basis of the 1-D singular vectors. Strides are in elements, so transposes and the channel batch
// need no copies.

struct Params {
    n: u32,      // elements of dst = batch · rows · cols
    rows: u32,
    cols: u32,
    inner: u32,  // matmul: summation length
    sab: u32,    // matmul: a's strides along batch, row, inner
    sai: u32,
    sat: u32,
    sbb: u32,    // matmul: b's strides along batch, inner, column
    sbt: u32,
    sbj: u32,
    pad0: u32,   // to a multiple of 16 bytes
    pad1: u32,
}

@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// position returns the flat index of this invocation and its row-major
// (c, i, j) in (batch, rows, cols).
fn position(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> vec4<u32> {
    let idx = (wid.y * nwg.x + wid.x) * WG + lid;
    let r = idx / p.cols;
    return vec4<u32>(idx, r / p.rows, r % p.rows, idx % p.cols);
}

// dst[c, i, j] = Σ_{t < inner} a[c·sab + i·sai + t·sat] · b[c·sbb + t·sbt + j·sbj].
// One invocation per output element: the factors are at most MaxSide
// (4096) long, small next to the network's convolutions.
@compute @workgroup_size(WG)
fn matmul_fwd(@builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let q = position(wid, nwg, lid);
    if (q.x >= p.n) {
        return;
    }
    var ia = q.y * p.sab + q.z * p.sai;
    var ib = q.y * p.sbb + q.w * p.sbj;
    var s = 0.0;
    for (var t = 0u; t < p.inner; t++) {
        s += a[ia] * b[ib];
        ia += p.sat;
        ib += p.sbt;
    }
    dst[q.x] = s;
}

// dst[c, i, j] ← dst[c, i, j]·a[i·cols + j], with a the gain g(s_h,i²·s_w,j²)
// of each pair of 1-D singular values, computed on the CPU in float64.
@compute @workgroup_size(WG)
fn gain_fwd(@builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
    let q = position(wid, nwg, lid);
    if (q.x >= p.n) {
        return;
    }
    dst[q.x] = dst[q.x] * a[q.z * p.cols + q.w];
}
