// Linear combinations and dot products of float32 vectors.

struct Params {
    n: u32,      // elements
    terms: u32,  // number of summands used, 0 … 7
    pad0: u32,
    pad1: u32,
    c0: f32,
    c1: f32,
    c2: f32,
    c3: f32,
    c4: f32,
    c5: f32,
    c6: f32,
    pad2: u32,
}

// The inputs are declared read_write although combine_fwd only reads them:
// dst may be one of the vᵢ, and WebGPU forbids binding one buffer as
// writable and read-only storage in the same dispatch, while several
// writable bindings of one buffer are allowed. Unused inputs are bound to
// dst and never read.
@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read_write> v0: array<f32>;
@group(0) @binding(2) var<storage, read_write> v1: array<f32>;
@group(0) @binding(3) var<storage, read_write> v2: array<f32>;
@group(0) @binding(4) var<storage, read_write> v3: array<f32>;
@group(0) @binding(5) var<storage, read_write> v4: array<f32>;
@group(0) @binding(6) var<storage, read_write> v5: array<f32>;
@group(0) @binding(7) var<storage, read_write> v6: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;

// dst[i] = Σ_{t < terms} c_t · v_t[i],  i < n.
// Each element is read before it is written, so dst may alias any v_t.
@compute @workgroup_size(WG)
fn combine_fwd(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if (i >= p.n) {
        return;
    }
    var s = 0.0;
    if (p.terms > 0u) { s += p.c0 * v0[i]; }
    if (p.terms > 1u) { s += p.c1 * v1[i]; }
    if (p.terms > 2u) { s += p.c2 * v2[i]; }
    if (p.terms > 3u) { s += p.c3 * v3[i]; }
    if (p.terms > 4u) { s += p.c4 * v4[i]; }
    if (p.terms > 5u) { s += p.c5 * v5[i]; }
    if (p.terms > 6u) { s += p.c6 * v6[i]; }
    dst[i] = s;
}
