// The maps of a grouped operator (package operator: Inpaint, BoxSR, Gray),
// whose every measurement is the mean of a disjoint group of k image
// entries. Two tables describe it: groups[i], the measurement image entry i
// feeds (−1 if none), and members[o·k + t], t < k, the entries of group o
// (the inverse table, built on the CPU so that no kernel needs atomics).

struct Params {
    n: u32,      // elements of dst
    k: u32,      // group size
    scale: f32,  // factor applied to every output
    pad0: u32,
}

@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> groups: array<i32>;
@group(0) @binding(3) var<storage, read> members: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;

fn flat(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}

// group_sum returns Σ_{t < k} src[members[o·k + t]].
fn group_sum(o: u32) -> f32 {
    var s = 0.0;
    for (var t = 0u; t < p.k; t++) {
        s += src[members[o * p.k + t]];
    }
    return s;
}

// image_group returns the group of image entry i, or −1 after setting
// dst[i] = 0 for an entry in no group.
fn image_group(i: u32) -> i32 {
    let o = groups[i];
    if (o < 0) {
        dst[i] = 0.0;
    }
    return o;
}

// dst[o] = scale · Σ_{t < k} src[members[o·k + t]],  o < n (measurements).
// H is scale = 1/k.
@compute @workgroup_size(WG)
fn grouped_fwd(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let o = flat(wid, nwg, lid);
    if (o >= p.n) {
        return;
    }
    dst[o] = p.scale * group_sum(o);
}

// dst[i] = scale · src[groups[i]] if groups[i] ≥ 0, else 0,  i < n (image).
// Hᵀ is scale = 1/k, H† is scale = 1 (an exact copy).
@compute @workgroup_size(WG)
fn grouped_adj(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = flat(wid, nwg, lid);
    if (i >= p.n) {
        return;
    }
    let o = image_group(i);
    if (o >= 0) {
        dst[i] = p.scale * src[u32(o)];
    }
}

// dst[i] = scale · Σ_{t < k} src[members[groups[i]·k + t]] if groups[i] ≥ 0,
// else 0,  i < n (image). P is scale = 1/k: each entry becomes its group's
// mean in one pass, without an intermediate measurement.
@compute @workgroup_size(WG)
fn grouped_proj(@builtin(workgroup_id) wid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = flat(wid, nwg, lid);
    if (i >= p.n) {
        return;
    }
    let o = image_group(i);
    if (o >= 0) {
        dst[i] = p.scale * group_sum(u32(o));
    }
}
