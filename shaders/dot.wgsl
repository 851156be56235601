// Dot products of float32 vectors, reduced on the device to one partial sum
// per workgroup; the caller adds the partials in float64.

struct Params {
    n: u32,  // elements
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> partial: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> acc: array<f32, WG>;

// partial[g] = Σ_{l < WG} Σ_{i ≡ g·WG + l (mod G·WG), i < n} a[i]·b[i],
// g < G = number of workgroups (a 1-D dispatch). Each invocation sums a
// strided slice, then the workgroup adds its WG sums pairwise (WG is a
// power of two), which keeps float32 round-off near log₂ of the length.
@compute @workgroup_size(WG)
fn dot_fwd(@builtin(workgroup_id) wid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let stride = nwg.x * WG;
    var s = 0.0;
    for (var i = wid.x * WG + lid; i < p.n; i += stride) {
        s += a[i] * b[i];
    }
    acc[lid] = s;
    workgroupBarrier();
    for (var span = WG / 2u; span > 0u; span /= 2u) {
        if (lid < span) {
            acc[lid] += acc[lid + span];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        partial[wid.x] = acc[0];
    }
}
