// Linear combinations and dot products of float32 vectors.

struct Params {
    n: u32,         // elements
    terms: u32,     // number of summands v_t used, 0 … 7
    cself: f32,     // coefficient of dst's own old value, when hasself
    hasself: u32,   // 1 when dst is itself a summand
    c0: f32,
    c1: f32,
    c2: f32,
    c3: f32,
    c4: f32,
    c5: f32,
    c6: f32,
    pad: u32,
}

// dst is the only writable binding: Chromium rejects a dispatch that binds
// one buffer twice when either binding is writable ("Writable storage
// buffer binding aliasing found between …"), so a summand that is dst itself comes through dst's binding (cself) and
// unused inputs repeat a read-only input, which is allowed.
@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read> v0: array<f32>;
@group(0) @binding(2) var<storage, read> v1: array<f32>;
@group(0) @binding(3) var<storage, read> v2: array<f32>;
@group(0) @binding(4) var<storage, read> v3: array<f32>;
@group(0) @binding(5) var<storage, read> v4: array<f32>;
@group(0) @binding(6) var<storage, read> v5: array<f32>;
@group(0) @binding(7) var<storage, read> v6: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;

// dst[i] = cself·dst[i] (when hasself) + Σ_{t < terms} c_t · v_t[i],  i < n.
// Each element of dst is read before it is written.
@compute @workgroup_size(WG)
fn combine_fwd(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if (i >= p.n) {
        return;
    }
    var s = 0.0;
    if (p.hasself != 0u) { s = p.cself * dst[i]; }
    if (p.terms > 0u) { s += p.c0 * v0[i]; }
    if (p.terms > 1u) { s += p.c1 * v1[i]; }
    if (p.terms > 2u) { s += p.c2 * v2[i]; }
    if (p.terms > 3u) { s += p.c3 * v3[i]; }
    if (p.terms > 4u) { s += p.c4 * v4[i]; }
    if (p.terms > 5u) { s += p.c5 * v5[i]; }
    if (p.terms > 6u) { s += p.c6 * v6[i]; }
    dst[i] = s;
}
