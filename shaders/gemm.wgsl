// A plain register-blocked float32 matrix product, the yardstick of
// `conjure bench`: the rate of a kernel with no convolution indexing and
// no int8 unpacking, against which the network's kernels are measured.
// Row-major A (m, k), B (k, n), C (m, n); n and k multiples of 4 (vec4
// loads), m a multiple of 4.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    pad0: u32,
}

@group(0) @binding(0) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Params;

// Each invocation computes a 4 × 4 block of C, rows 4·bi…, columns 4·bj…:
// C[i, j] = Σ_t A[i, t]·B[t, j], four values of t per step from one vec4
// load per row of A and per row of B.
@compute @workgroup_size(WG)
fn gemm_fwd(@builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
    let t = (wid.y * nwg.x + wid.x) * WG + lid;
    let nb = p.n / 4u;
    if (t >= p.m / 4u * nb) {
        return;
    }
    let i0 = t / nb * 4u;
    let bj = t % nb;
    let ka = p.k / 4u;
    var acc: array<vec4<f32>, 4>;
    for (var s = 0u; s < ka; s++) {
        let b0 = b[(4u * s) * nb + bj];
        let b1 = b[(4u * s + 1u) * nb + bj];
        let b2 = b[(4u * s + 2u) * nb + bj];
        let b3 = b[(4u * s + 3u) * nb + bj];
        for (var r = 0u; r < 4u; r++) {
            let x = a[(i0 + r) * ka + s];
            acc[r] += x.x * b0 + x.y * b1 + x.z * b2 + x.w * b3;
        }
    }
    for (var r = 0u; r < 4u; r++) {
        c[(i0 + r) * nb + bj] = acc[r];
    }
}
