// Tiles of a whole image (package tile's Grid) for a network run at a
// fixed size on batches of tiles: cutting a batch of tiles out of the
// image, and blending the results of a chunk of tiles back into it,
// ε(x) = Σₖ Cₖᵀ(wₖ ⊙ ε_net(Cₖ x)). Batches are channel-major, as the
// network's tensors: [C][slots][size][size], tile first + j in slot j.
//
// Both entry points read one table buffer and one weight buffer. A line is
// one tile's footprint along an axis: size positions, the row tiles' lines
// first, then the column tiles'. Position e = line·size + t has image index
// tables[e] and blend weight weight[e]. After the lines, the coverage
// tables list for each image row (at rowcov) and each image column (at
// colcov) the positions e that read it, maxrow (maxcol) entries each,
// ascending and padded with NONE: a reflected short side reads some
// pixels at several positions of one tile, and every one is listed, so the
// blend is exactly the transpose of the cut. Each output pixel sums its
// own entries in a fixed order: no atomics, no races, the same result on
// every run.

struct Params {
    n: u32,          // elements of dst
    h: u32,          // image rows
    w: u32,          // image columns
    size: u32,       // tile side
    rows: u32,       // row tiles (lines before the column tiles' lines)
    cols: u32,       // column tiles
    slots: u32,      // the batch's slots (tile_cut: its tiles, tile_blend: the chunk's)
    weighted: u32,   // 1: multiply by the blend weight w_k
    rowcov: u32,     // offset of the row coverage table in tables
    colcov: u32,     // offset of the column coverage table in tables
    maxrow: u32,     // coverage entries per image row
    maxcol: u32,     // coverage entries per image column
    first: u32,      // the batch's (chunk's) first tile k = row tile · cols + column tile …
    count: u32,      // … and its number of tiles (tile_blend), at most slots
    accumulate: u32, // tile_blend: 1 adds to dst, 0 overwrites it
    pad0: u32,
}

const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> tables: array<u32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn flat(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}

// dst[c, slot, t, s] = src[c, tables[er], tables[ec]] · (weight[er]·weight[ec]
// when weighted),  er = i·size + t, ec = (rows + j)·size + s, for tile
// k = first + slot = i·cols + j;  n = C·slots·size².
@compute @workgroup_size(WG)
fn tile_cut(@builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
    let idx = flat(wid, nwg, lid);
    if (idx >= p.n) {
        return;
    }
    let plane = p.size * p.size;
    let c = idx / (p.slots * plane);
    let k = p.first + (idx / plane) % p.slots;
    let t = (idx % plane) / p.size;
    let s = idx % p.size;
    let er = (k / p.cols) * p.size + t;
    let ec = (p.rows + k % p.cols) * p.size + s;
    var v = src[(c * p.h + tables[er]) * p.w + tables[ec]];
    if (p.weighted != 0u) {
        v *= weight[er] * weight[ec];
    }
    dst[idx] = v;
}

// dst[c, y, x] = (dst[c, y, x] when accumulate) + Σ over the coverage
// entries er of row y and ec of column x whose tile k = i·cols + j lies in
// [first, first + count) of src[c, k − first, t, s] · (weight[er]·weight[ec]
// when weighted),  er = i·size + t, ec = (rows + j)·size + s;  src holds the
// chunk's tiles in its slots, and n = C·h·w.
@compute @workgroup_size(WG)
fn tile_blend(@builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let idx = flat(wid, nwg, lid);
    if (idx >= p.n) {
        return;
    }
    let pixels = p.h * p.w;
    let c = idx / pixels;
    let y = (idx % pixels) / p.w;
    let x = idx % p.w;
    let plane = p.size * p.size;
    var acc = 0.0;
    for (var a = 0u; a < p.maxrow; a++) {
        let er = tables[p.rowcov + y * p.maxrow + a];
        if (er == NONE) {
            break;
        }
        let i = er / p.size;
        let t = er % p.size;
        for (var b = 0u; b < p.maxcol; b++) {
            let ec = tables[p.colcov + x * p.maxcol + b];
            if (ec == NONE) {
                break;
            }
            let k = i * p.cols + ec / p.size - p.rows;
            if (k < p.first || k >= p.first + p.count) {
                continue;
            }
            var v = src[((c * p.slots + k - p.first) * p.size + t) * p.size + ec % p.size];
            if (p.weighted != 0u) {
                v *= weight[er] * weight[ec];
            }
            acc += v;
        }
    }
    if (p.accumulate != 0u) {
        acc += dst[idx];
    }
    dst[idx] = acc;
}
