// The convolutions of the score network (docs/NETWORK.md): 3×3 with zero
// padding 1 and stride 1 or 2, optionally reading the nearest ×2
// upsampling of its input (Upsample, fused into the indexing), and 1×1;
// each forward and its VJP with respect to the input. Weights are int8,
// dequantized as q·scale[o], and packed four per u32 (byte i%4 of word
// i/4, little-endian) in groups of K bytes, one vec4<u32>: the forward's
// wq holds, for each block of K output channels, each input channel c and
// each tap t,
// the K bytes q[o, c, t] of the block's o in order; the VJP's holds, for
// each block of K input channels, each output channel o and tap t, the K
// bytes q[o, c, t] of the block's c. Bytes of channels past the last are
// zero. The VJP entries bind src as dy and ignore bias and res.
//
// Tensors hold a batch of n samples channel-major, [channels][n][rows][cols]:
// a 3×3 conv reads one sample's plane per tap and never crosses into the
// next, a 1×1 conv is compiled to treat the whole batch as one row of
// n·rows·cols pixels, and concatenating channels is one contiguous copy.
//
// Package gpu prepends the constants STRIDE (1 or 2) and UP (0 or 1, the
// ×2 upsampling) of a 3×3 variant; the 1×1 kernels are compiled with 1
// and 0.
//
// # Tiling
//
// Each invocation computes a register block of K channels × P adjacent
// pixels of one output row; all invocations of a workgroup share the same
// K channels and cover WG·P pixels, so the weights a hot loop reads are
// workgroup-uniform (a broadcast load on GPUs) and one vec4<u32> load
// yields all K of a tap. Per input channel and kernel row, an invocation
// loads P + 2 input values (stride 1) and 3 weight vectors for 3·K·P
// multiply-adds. On lavapipe (Mesa 22.3) every storage load, uniform or
// not, is a loop over the SIMD lanes that costs about as much per loaded
// element as dozens of multiply-adds, so the loaded elements per
// multiply-add are what the block minimizes; the accumulators stay in
// fixed-index arrays, which the compiler keeps in registers (arrays
// indexed through nested loops it does not, and they cost 3×). Borders
// are handled by clamped indices and select, not branches, so lanes never
// diverge inside the loops. A dispatch has blocks·tiles workgroups: blocks
// = ⌈channels/K⌉ channel blocks, tiles = ⌈n·rows·nq/WG⌉ workgroups per
// block, nq = ⌈row width/P⌉ pixel groups per row.

struct Params {
    cin: u32,      // input channels
    h: u32,        // input height, before any upsampling
    w: u32,        // input width, before any upsampling
    cout: u32,     // output channels
    ho: u32,       // output height
    wo: u32,       // output width
    nq: u32,       // pixel groups of P per row of the written tensor
    tiles: u32,    // workgroups per channel block
    blocks: u32,   // channel blocks of K
    residual: u32, // 1: the forward adds res to its output
    boff: u32,     // offset of bias[0] in the bias buffer
    n: u32,        // samples in the batch
}

@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> wq: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> res: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

const K: u32 = 16u; // channels per invocation: one vec4<u32> of packed weights
const P: u32 = 4u; // adjacent pixels per invocation, the lanes of a vec4
// SPAN is the input columns one row of a forward 3×3 block reads.
const SPAN: u32 = STRIDE * (P - 1u) + 3u;
// UPSPAN is the dy columns one row of the upsampling VJP's block reads.
const UPSPAN: u32 = 2u * P + 2u;

// block is the position of an invocation: its channel block blk (uniform
// over the workgroup), its sample, its row within the sample's rows-row
// plane and its first column; ok is false past the last workgroup, which
// the whole workgroup shares.
struct Block {
    blk: u32,
    sample: u32,
    row: u32,
    col: u32,
    ok: bool,
}

fn block(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, rows: u32) -> Block {
    let g = wid.y * nwg.x + wid.x;
    let q = (g % p.tiles) * WG + lid;
    let r = q / p.nq; // the row of the whole batch, n·rows of them
    return Block(g / p.tiles, r / rows, r % rows, q % p.nq * P, g < p.blocks * p.tiles);
}

// weights returns the K weights of packed group i (one vec4 load: on
// lavapipe one loop over the lanes), unscaled; extractBits on i32
// sign-extends.
fn weights(i: u32) -> array<f32, K> {
    let g = vec4<i32>(wq[i]);
    var w: array<f32, K>;
    for (var j = 0u; j < 4u; j++) {
        w[4u * j] = f32(extractBits(g[j], 0u, 8u));
        w[4u * j + 1u] = f32(extractBits(g[j], 8u, 8u));
        w[4u * j + 2u] = f32(extractBits(g[j], 16u, 8u));
        w[4u * j + 3u] = f32(extractBits(g[j], 24u, 8u));
    }
    return w;
}

// mac adds w[k]·v to acc[k] for each channel k of the block.
fn mac(acc: ptr<function, array<vec4<f32>, K>>, w: array<f32, K>, v: vec4<f32>) {
    var wk = w; // a var: WGSL indexes value arrays by constants only
    for (var k = 0u; k < K; k++) {
        (*acc)[k] += wk[k] * v;
    }
}

// at returns plane[r, q] of the rows × cols plane starting at src[base],
// read through the nearest upsampling by 2^up, zero outside the
// (rows << up) × (cols << up) image. The index is clamped rather than
// branched on, so that every lane loads.
fn at(base: u32, r: i32, q: i32, rows: u32, cols: u32, up: u32) -> f32 {
    let hu = i32(rows << up);
    let wu = i32(cols << up);
    let i = base + (u32(clamp(r, 0, hu - 1)) >> up) * cols + (u32(clamp(q, 0, wu - 1)) >> up);
    return select(0.0, src[i], r >= 0 && r < hu && q >= 0 && q < wu);
}

// store writes acc to row `row`, columns col…col+P−1 of the channels
// blk·K + k of the block's sample of a channels × n × rows × cols tensor,
// the forward's epilogue adding bias and res first; channels, samples and
// pixels past the tensor are dropped.
fn store(v: array<vec4<f32>, K>, b: Block, channels: u32, rows: u32, cols: u32, fwd: bool) {
    if (b.sample >= p.n) {
        return;
    }
    var acc = v; // a var: WGSL indexes value arrays by constants only
    for (var k = 0u; k < K; k++) {
        let ch = b.blk * K + k;
        if (ch >= channels) {
            return;
        }
        for (var j = 0u; j < P; j++) {
            let i = ((ch * p.n + b.sample) * rows + b.row) * cols + b.col + j;
            if (b.col + j < cols) {
                var y = acc[k][j];
                if (fwd) {
                    y = scale[ch] * y + bias[p.boff + ch];
                    if (p.residual == 1u) {
                        y += res[i];
                    }
                }
                dst[i] = y;
            }
        }
    }
}

// With u = UP, s = STRIDE, the conv's input is X[c, y, x] = src[c, y >> u, x >> u]
// of size (h << u) × (w << u):
// dst[o, y, x] = bias[o] + scale[o]·Σ_c Σ_ky Σ_kx q[o, c, ky, kx]·X[c, s·y + ky − 1, s·x + kx − 1] (+ res[o, y, x]),
// taps outside X reading zero. Blocks: K output channels × P columns.
@compute @workgroup_size(WG)
fn conv3x3_fwd(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let b = block(wid, nwg, lid, p.ho);
    if (!b.ok) {
        return;
    }
    let plane = p.h * p.w;
    var acc: array<vec4<f32>, K>;
    for (var c = 0u; c < p.cin; c++) {
        for (var ky = 0u; ky < 3u; ky++) {
            let r = i32(b.row * STRIDE + ky) - 1;
            var win: array<f32, SPAN>;
            for (var j = 0u; j < SPAN; j++) {
                win[j] = at((c * p.n + b.sample) * plane, r, i32(b.col * STRIDE + j) - 1, p.h, p.w, UP);
            }
            let t = (b.blk * p.cin + c) * 9u + ky * 3u;
            for (var kx = 0u; kx < 3u; kx++) {
                mac(&acc, weights(t + kx), vec4(win[kx], win[STRIDE + kx], win[2u * STRIDE + kx], win[3u * STRIDE + kx]));
            }
        }
    }
    store(acc, b, p.cout, p.ho, p.wo, true);
}

// The transposed convolution with the same weights, summed over the
// 2^u × 2^u block each input pixel was copied to when UP = u = 1:
// dst[c, i, j] = Σ_{a, b < 2^u} Σ_o Σ_{ky, kx, y, x : s·y + ky − 1 = (i << u) + a, s·x + kx − 1 = (j << u) + b}
//                scale[o]·q[o, c, ky, kx]·dy[o, y, x].
// Blocks: K input channels × P columns of dst. Each variant gathers only
// the taps that reach its pixels: vjp_s1, vjp_s2 and vjp_up below.
@compute @workgroup_size(WG)
fn conv3x3_vjp(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let b = block(wid, nwg, lid, p.h);
    if (!b.ok) {
        return;
    }
    var acc: array<vec4<f32>, K>;
    if (STRIDE == 2u) {
        vjp_s2(&acc, b);
    } else if (UP == 1u) {
        vjp_up(&acc, b);
    } else {
        vjp_s1(&acc, b);
    }
    store(acc, b, p.cin, p.h, p.w, false);
}

// vjp_s1 (stride 1): dst[c, i, j] = Σ_o Σ_ky Σ_kx scale[o]·q[o, c, ky, kx]·dy[o, i + 1 − ky, j + 1 − kx],
// the forward with the kernel flipped and the channel roles swapped.
fn vjp_s1(acc: ptr<function, array<vec4<f32>, K>>, b: Block) {
    let plane = p.ho * p.wo;
    for (var o = 0u; o < p.cout; o++) {
        let sc = scale[o];
        for (var ky = 0u; ky < 3u; ky++) {
            let r = i32(b.row + 1u) - i32(ky);
            var win: array<f32, SPAN>;
            for (var j = 0u; j < P + 2u; j++) {
                win[j] = sc * at((o * p.n + b.sample) * plane, r, i32(b.col + j) - 1, p.ho, p.wo, 0u);
            }
            let t = (b.blk * p.cout + o) * 9u + ky * 3u;
            for (var kx = 0u; kx < 3u; kx++) {
                // Column j + 1 − kx of dy sits at win[j − col + 2 − kx].
                mac(acc, weights(t + kx), vec4(win[2u - kx], win[3u - kx], win[4u - kx], win[5u - kx]));
            }
        }
    }
}

// vjp_s2 (stride 2): row i of dst is reached through ky = 1 from dy row
// i/2 when i is even, and through ky = 0 from row (i + 1)/2 and ky = 2
// from row (i − 1)/2 when i is odd; columns alike, which for the P = 4
// columns from col = 2·b0 gives the fixed taps written out below.
fn vjp_s2(acc: ptr<function, array<vec4<f32>, K>>, b: Block) {
    let plane = p.ho * p.wo;
    let even = b.row % 2u == 0u;
    let ra = i32(b.row + 1u) / 2; // through ky = 1 (even) or 0 (odd)
    let rz = (i32(b.row) - 1) / 2; // through ky = 2 (odd rows only)
    let b0 = i32(b.col / 2u);
    for (var o = 0u; o < p.cout; o++) {
        let sc = scale[o];
        let base = (o * p.n + b.sample) * plane;
        // Row a takes ky = 1 (even) or 0 (odd), row z ky = 2 (odd) or nothing.
        let a = sc * vec3(at(base, ra, b0, p.ho, p.wo, 0u), at(base, ra, b0 + 1, p.ho, p.wo, 0u), at(base, ra, b0 + 2, p.ho, p.wo, 0u));
        let z = select(sc, 0.0, even) * vec3(at(base, rz, b0, p.ho, p.wo, 0u), at(base, rz, b0 + 1, p.ho, p.wo, 0u), at(base, rz, b0 + 2, p.ho, p.wo, 0u));
        let t = (b.blk * p.cout + o) * 9u;
        let ta = t + select(0u, 3u, even);
        let a0 = weights(ta);
        let a1 = weights(ta + 1u);
        let a2 = weights(ta + 2u);
        let z0 = weights(t + 6u);
        let z1 = weights(t + 7u);
        let z2 = weights(t + 8u);
        // Columns col, col + 2 take kx = 1 from b0, b0 + 1; col + 1 takes
        // kx = 0 from b0 + 1 and kx = 2 from b0; col + 3 kx = 0 from b0 + 2
        // and kx = 2 from b0 + 1.
        mac(acc, a1, vec4(a.x, 0.0, a.y, 0.0));
        mac(acc, a0, vec4(0.0, a.y, 0.0, a.z));
        mac(acc, a2, vec4(0.0, a.x, 0.0, a.y));
        mac(acc, z1, vec4(z.x, 0.0, z.y, 0.0));
        mac(acc, z0, vec4(0.0, z.y, 0.0, z.z));
        mac(acc, z2, vec4(0.0, z.x, 0.0, z.y));
    }
}

// vjp_up (nearest ×2 upsampling, stride 1): summing the transposed conv
// over each 2 × 2 block gives a 4 × 4 kernel on dy,
// dst[c, i, j] = Σ_o Σ_{dr, dc = −1…2} scale[o]·(E q[o, c] Eᵀ)[dr, dc]·dy[o, 2i + dr, 2j + dc],
// where row d of E sums the taps that reach offset d: −1 ← {2},
// 0 ← {1, 2}, 1 ← {0, 1}, 2 ← {0}.
fn vjp_up(acc: ptr<function, array<vec4<f32>, K>>, b: Block) {
    let plane = p.ho * p.wo;
    for (var o = 0u; o < p.cout; o++) {
        let sc = scale[o];
        let t = (b.blk * p.cout + o) * 9u;
        for (var d = 0u; d < 4u; d++) {
            var win: array<f32, UPSPAN>;
            for (var j = 0u; j < UPSPAN; j++) {
                win[j] = sc * at((o * p.n + b.sample) * plane, i32(2u * b.row + d) - 1, i32(2u * b.col + j) - 1, p.ho, p.wo, 0u);
            }
            // The taps ky of E's row d: from lo to hi.
            let lo = select(0u, 1u, d == 1u) + select(0u, 2u, d == 0u);
            let hi = 2u - select(0u, 1u, d == 2u) - select(0u, 2u, d == 3u);
            for (var ky = lo; ky <= hi; ky++) {
                let q0 = weights(t + 3u * ky);
                let q1 = weights(t + 3u * ky + 1u);
                let q2 = weights(t + 3u * ky + 2u);
                // Columns 2j + dc of dy for dc = −1…2, j = col…col + 3,
                // through E's columns: kx = 2, {1, 2}, {0, 1}, 0.
                let m1 = vec4(win[0], win[2], win[4], win[6]);
                let c0 = vec4(win[1], win[3], win[5], win[7]);
                let c1 = vec4(win[2], win[4], win[6], win[8]);
                let c2 = vec4(win[3], win[5], win[7], win[9]);
                mac(acc, q2, m1 + c0);
                mac(acc, q1, c0 + c1);
                mac(acc, q0, c1 + c2);
            }
        }
    }
}

// With m = h·w pixels (of all samples) as one row (h = 1, n = 1):
// dst[o, k] = bias[o] + scale[o]·Σ_c q[o, c]·src[c, k] (+ res[o, k]).
// Blocks: K output channels × P pixels.
@compute @workgroup_size(WG)
fn conv1x1_fwd(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let b = block(wid, nwg, lid, 1u);
    if (!b.ok) {
        return;
    }
    var acc: array<vec4<f32>, K>;
    let x = i32(b.col);
    for (var c = 0u; c < p.cin; c++) {
        let base = c * p.w;
        mac(&acc, weights(b.blk * p.cin + c), vec4(at(base, 0, x, 1u, p.w, 0u), at(base, 0, x + 1, 1u, p.w, 0u),
                                                   at(base, 0, x + 2, 1u, p.w, 0u), at(base, 0, x + 3, 1u, p.w, 0u)));
    }
    store(acc, b, p.cout, 1u, p.w, true);
}

// dst[c, k] = Σ_o scale[o]·q[o, c]·dy[o, k]. Blocks: K input channels × P pixels.
@compute @workgroup_size(WG)
fn conv1x1_vjp(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let b = block(wid, nwg, lid, 1u);
    if (!b.ok) {
        return;
    }
    var acc: array<vec4<f32>, K>;
    let x = i32(b.col);
    for (var o = 0u; o < p.cout; o++) {
        let base = o * p.w;
        mac(&acc, weights(b.blk * p.cout + o), scale[o] * vec4(at(base, 0, x, 1u, p.w, 0u), at(base, 0, x + 1, 1u, p.w, 0u),
                                                               at(base, 0, x + 2, 1u, p.w, 0u), at(base, 0, x + 3, 1u, p.w, 0u)));
    }
    store(acc, b, p.cin, 1u, p.w, false);
}
