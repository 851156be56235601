// The convolutions of the score network (docs/NETWORK.md): 3×3 with zero
// padding 1 and stride 1 or 2, optionally reading the nearest ×2
// upsampling of its input (Upsample, fused into the indexing), and 1×1;
// each forward and its VJP with respect to the input. Weights are int8 in
// PyTorch's order, weight (o, c, ky, kx) at ((o·cin + c)·k + ky)·k + kx,
// packed four per u32 (byte i%4 of word i/4, little-endian) and dequantized
// as q·scale[o]. The VJP entries bind src as dy and ignore bias and res.

struct Params {
    n: u32,       // elements of dst
    cin: u32,     // input channels
    h: u32,       // input height, before any upsampling
    w: u32,       // input width, before any upsampling
    cout: u32,    // output channels
    ho: u32,      // output height
    wo: u32,      // output width
    stride: u32,  // 1 or 2
    up: u32,      // 1: the 3×3 conv reads the nearest ×2 upsampling of src
    residual: u32, // 1: the forward adds res to its output
    boff: u32,    // offset of bias[0] in the bias buffer
    pad0: u32,
}

@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> wq: array<u32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> res: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

fn flat(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}

// weight returns int8 weight i, unscaled; extractBits on i32 sign-extends.
fn weight(i: u32) -> f32 {
    return f32(extractBits(i32(wq[i / 4u]), 8u * (i % 4u), 8u));
}

// epilogue returns bias + res (if any) for output element i of channel o.
fn epilogue(i: u32, o: u32) -> f32 {
    var v = bias[p.boff + o];
    if (p.residual == 1u) {
        v += res[i];
    }
    return v;
}

// With u = up, the conv's input is X[c, y, x] = src[c, y >> u, x >> u] of
// size (h << u) × (w << u):
// dst[o, y, x] = bias[o] + scale[o]·Σ_c Σ_ky Σ_kx q[o, c, ky, kx]·X[c, s·y + ky − 1, s·x + kx − 1] (+ res[o, y, x]),
// taps outside X reading zero.
@compute @workgroup_size(WG)
fn conv3x3_fwd(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = flat(wid, nwg, lid);
    if (i >= p.n) {
        return;
    }
    let o = i / (p.ho * p.wo);
    let y = (i / p.wo) % p.ho;
    let x = i % p.wo;
    let hu = i32(p.h << p.up);
    let wu = i32(p.w << p.up);
    let plane = p.h * p.w;
    var acc = 0.0;
    // Taps outermost, so that the channel loop has no bounds checks.
    for (var ky = 0u; ky < 3u; ky++) {
        let iy = i32(y * p.stride + ky) - 1;
        if (iy < 0 || iy >= hu) {
            continue;
        }
        for (var kx = 0u; kx < 3u; kx++) {
            let ix = i32(x * p.stride + kx) - 1;
            if (ix < 0 || ix >= wu) {
                continue;
            }
            var wi = o * p.cin * 9u + ky * 3u + kx;
            var si = (u32(iy) >> p.up) * p.w + (u32(ix) >> p.up);
            for (var c = 0u; c < p.cin; c++) {
                acc += weight(wi) * src[si];
                wi += 9u;
                si += plane;
            }
        }
    }
    dst[i] = scale[o] * acc + epilogue(i, o);
}

// The transposed convolution with the same weights, summed over the
// 2^u × 2^u block each input pixel was copied to when up = u = 1:
// dst[c, i, j] = Σ_{a, b < 2^u} Σ_o Σ_{ky, kx, y, x : s·y + ky − 1 = (i << u) + a, s·x + kx − 1 = (j << u) + b}
//                scale[o]·q[o, c, ky, kx]·dy[o, y, x].
@compute @workgroup_size(WG)
fn conv3x3_vjp(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let t = flat(wid, nwg, lid);
    if (t >= p.n) {
        return;
    }
    let c = t / (p.h * p.w);
    let i = (t / p.w) % p.h;
    let j = t % p.w;
    let reps = 1u << p.up;
    var acc = 0.0;
    for (var a = 0u; a < reps; a++) {
        for (var b = 0u; b < reps; b++) {
            let ui = (i << p.up) + a;
            let uj = (j << p.up) + b;
            for (var ky = 0u; ky < 3u; ky++) {
                // Output row y reads input row ui through tap ky when s·y = ui + 1 − ky.
                let ty = i32(ui + 1u) - i32(ky);
                if (ty < 0 || u32(ty) % p.stride != 0u || u32(ty) / p.stride >= p.ho) {
                    continue;
                }
                let y = u32(ty) / p.stride;
                for (var kx = 0u; kx < 3u; kx++) {
                    let tx = i32(uj + 1u) - i32(kx);
                    if (tx < 0 || u32(tx) % p.stride != 0u || u32(tx) / p.stride >= p.wo) {
                        continue;
                    }
                    let x = u32(tx) / p.stride;
                    var wi = c * 9u + ky * 3u + kx;
                    var si = y * p.wo + x;
                    for (var o = 0u; o < p.cout; o++) {
                        acc += scale[o] * weight(wi) * src[si];
                        wi += p.cin * 9u;
                        si += p.ho * p.wo;
                    }
                }
            }
        }
    }
    dst[t] = acc;
}

// With m = h·w pixels: dst[o, k] = bias[o] + scale[o]·Σ_c q[o, c]·src[c, k] (+ res[o, k]).
@compute @workgroup_size(WG)
fn conv1x1_fwd(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = flat(wid, nwg, lid);
    if (i >= p.n) {
        return;
    }
    let m = p.h * p.w;
    let o = i / m;
    let k = i % m;
    var acc = 0.0;
    for (var c = 0u; c < p.cin; c++) {
        acc += weight(o * p.cin + c) * src[c * m + k];
    }
    dst[i] = scale[o] * acc + epilogue(i, o);
}

// dst[c, k] = Σ_o scale[o]·q[o, c]·dy[o, k].
@compute @workgroup_size(WG)
fn conv1x1_vjp(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = flat(wid, nwg, lid);
    if (i >= p.n) {
        return;
    }
    let m = p.h * p.w;
    let c = i / m;
    let k = i % m;
    var acc = 0.0;
    for (var o = 0u; o < p.cout; o++) {
        acc += scale[o] * weight(o * p.cin + c) * src[o * m + k];
    }
    dst[i] = acc;
}
