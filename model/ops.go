package model

import (
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas/gonum"
)

// The ops below work on planar float32 tensors (see the package doc) and
// write only their first argument. Each forward op that lies on the path
// from x to ε has a ...VJP twin that maps the gradient of its output to the
// gradient of its input; none computes weight gradients.

// parallelFor calls f(i) for every i in [0, n), splitting the range into
// contiguous chunks over GOMAXPROCS goroutines. Callers make every f(i)
// write a disjoint part of the output, so no locking is needed.
func parallelFor(n int, f func(i int)) {
	p := min(runtime.GOMAXPROCS(0), n)
	if p <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range p {
		wg.Go(func() {
			for i := w * n / p; i < (w+1)*n/p; i++ {
				f(i)
			}
		})
	}
	wg.Wait()
}

// convOut returns the output length of a 3-wide, padding-1 convolution of
// stride s over n inputs: ⌈n/s⌉.
func convOut(n, s int) int { return (n-1)/s + 1 }

// taps returns the outputs [lo, hi) of a 3-wide, padding-1, stride-s
// convolution over n inputs (no outputs) whose tap k ∈ {0, 1, 2} reads an
// input inside the image: 0 ≤ o·s + k − 1 < n. The others read zero padding.
func taps(n, no, s, k int) (lo, hi int) {
	if k == 0 {
		lo = 1
	}
	if n-k < 0 {
		return lo, lo
	}
	return lo, max(lo, min(no, (n-k)/s+1))
}

// blas32 is gonum's pure-Go BLAS: blocked, parallel over cores, with
// assembly kernels on amd64 and arm64. Every convolution is one matrix
// product, sgemmAcc, which falls back to it where it has no kernel.
var blas32 gonum.Implementation

// colPool recycles the im2col scratch matrices of conv3x3 and its VJP (a few
// MB at 64×64), so a Runner allocates nothing per call in steady state.
var colPool sync.Pool

// scratch returns a float32 slice of length n from colPool; put it back with
// colPool.Put when done.
func scratch(n int) *[]float32 {
	if p, ok := colPool.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]float32, n)
	return &s
}

// conv3x3 sets dst (cout, ho, wo) to the 3×3 convolution of x (cin, h, w)
// with stride s and zero padding 1, plus bias:
//
//	dst[o, y, x] = b[o] + Σ_c Σ_ky Σ_kx wt[o, c, ky, kx] · x[c, s·y + ky − 1, s·x + kx − 1]
//
// as one matrix product: wt (cout, 9·cin) times the im2col matrix of x.
func conv3x3(dst, x, wt, b []float32, cin, h, w, cout, s int) {
	n := convOut(h, s) * convOut(w, s)
	col := scratch(9 * cin * n)
	defer colPool.Put(col)
	im2col(*col, x, cin, h, w, s)
	for o := range cout {
		fill(dst[o*n:(o+1)*n], b[o])
	}
	sgemmAcc(cout, n, 9*cin, wt, 9*cin, *col, n, dst, n)
}

// conv3x3VJP sets dx (cin, h, w) to the gradient of conv3x3's input given
// dy (cout, ho, wo), the gradient of its output: the transposed convolution
// with the same weights,
//
//	dx[c, i, j] = Σ_o Σ_{y, x, ky, kx : s·y+ky−1 = i, s·x+kx−1 = j} wt[o, c, ky, kx] · dy[o, y, x]
//
// computed as wtᵀ·dy, a gradient of the im2col matrix, folded back.
func conv3x3VJP(dx, dy, wt []float32, cin, h, w, cout, s int) {
	n := convOut(h, s) * convOut(w, s)
	col := scratch(9 * cin * n)
	defer colPool.Put(col)
	clear(*col)
	sgemmAccT(9*cin, n, cout, wt, dy, *col)
	col2im(dx, *col, cin, h, w, s)
}

// im2col sets col (9·cin, ho·wo) so that row (c, ky, kx) holds, for every
// output pixel, the input x (cin, h, w) its tap (ky, kx) reads with stride s
// and zero padding 1 — zero where the tap falls in the padding.
func im2col(col, x []float32, cin, h, w, s int) {
	ho, wo := convOut(h, s), convOut(w, s)
	parallelFor(cin, func(c int) {
		xc := x[c*h*w : (c+1)*h*w]
		for k := range 9 {
			ky, kx := k/3, k%3
			row := col[(c*9+k)*ho*wo : (c*9+k+1)*ho*wo]
			clear(row)
			ylo, yhi := taps(h, ho, s, ky)
			xlo, xhi := taps(w, wo, s, kx)
			for oy := ylo; oy < yhi; oy++ {
				in := xc[(oy*s+ky-1)*w:]
				out := row[oy*wo : (oy+1)*wo]
				if s == 1 { // a shifted copy of the row: memmove, not a loop of checked loads
					copy(out[xlo:xhi], in[xlo+kx-1:xhi+kx-1])
					continue
				}
				for ox := xlo; ox < xhi; ox++ {
					out[ox] = in[ox*s+kx-1]
				}
			}
		}
	})
}

// col2im is im2col's adjoint: it sets dx (cin, h, w) to the sum, over every
// tap, of the entries of col (9·cin, ho·wo) that im2col copied from each
// input pixel.
func col2im(dx, col []float32, cin, h, w, s int) {
	ho, wo := convOut(h, s), convOut(w, s)
	parallelFor(cin, func(c int) {
		xc := dx[c*h*w : (c+1)*h*w]
		clear(xc)
		for k := range 9 {
			ky, kx := k/3, k%3
			row := col[(c*9+k)*ho*wo : (c*9+k+1)*ho*wo]
			ylo, yhi := taps(h, ho, s, ky)
			xlo, xhi := taps(w, wo, s, kx)
			for oy := ylo; oy < yhi; oy++ {
				out := xc[(oy*s+ky-1)*w:]
				in := row[oy*wo : (oy+1)*wo]
				if s == 1 { // slices of equal length: no bounds checks in the loop
					o := out[xlo+kx-1 : xhi+kx-1]
					for j, v := range in[xlo:xhi] {
						o[j] += v
					}
					continue
				}
				for ox := xlo; ox < xhi; ox++ {
					out[ox*s+kx-1] += in[ox]
				}
			}
		}
	})
}

// fill sets every element of v to a.
func fill(v []float32, a float32) {
	for i := range v {
		v[i] = a
	}
}

// conv1x1 sets dst (cout, n) to wt·x + b for x (cin, n) and wt (cout, cin):
// dst[o, p] = b[o] + Σ_c wt[o, c]·x[c, p].
func conv1x1(dst, x, wt, b []float32, cin, n, cout int) {
	for o := range cout {
		fill(dst[o*n:(o+1)*n], b[o])
	}
	sgemmAcc(cout, n, cin, wt, cin, x, n, dst, n)
}

// conv1x1VJP sets dx (cin, n) = wtᵀ·dy for dy (cout, n):
// dx[c, p] = Σ_o wt[o, c]·dy[o, p].
func conv1x1VJP(dx, dy, wt []float32, cin, n, cout int) {
	clear(dx[:cin*n])
	sgemmAccT(cin, n, cout, wt, dy, dx)
}

// linear sets dst = wt·x + b for wt (len(dst), len(x)). It only acts on the
// time embedding, which does not depend on x, so it needs no VJP.
func linear(dst, x, wt, b []float32) {
	for o := range dst {
		s := b[o]
		for i, v := range wt[o*len(x) : (o+1)*len(x)] {
			s += v * x[i]
		}
		dst[o] = s
	}
}

// gnEps is GroupNorm's ε, added to the biased variance.
const gnEps = 1e-5

// groupNorm sets dst = GroupNorm(x) for x (c, n) in g groups of c/g
// channels: each group is normalised by its mean μ and biased variance σ²
// over its (c/g)·n values, then scaled and shifted per channel:
//
//	dst[ch, p] = gamma[ch]·(x[ch, p] − μ)/√(σ² + 1e-5) + beta[ch]
//
// stats (2g values) receives μ and 1/√(σ² + 1e-5) of each group for
// groupNormVJP. The statistics are accumulated in float64, two-pass.
func groupNorm(dst, x, gamma, beta []float32, stats []float64, c, n, g int) {
	cg := c / g
	parallelFor(g, func(gi int) {
		xs := x[gi*cg*n : (gi+1)*cg*n]
		var sum float64
		for _, v := range xs {
			sum += float64(v)
		}
		mean := sum / float64(len(xs))
		var ss float64
		for _, v := range xs {
			d := float64(v) - mean
			ss += d * d
		}
		rstd := 1 / math.Sqrt(ss/float64(len(xs))+gnEps)
		stats[2*gi], stats[2*gi+1] = mean, rstd
		m, r := float32(mean), float32(rstd)
		for ch := gi * cg; ch < (gi+1)*cg; ch++ {
			out := dst[ch*n : (ch+1)*n]
			for p, v := range x[ch*n : (ch+1)*n] {
				out[p] = gamma[ch]*((v-m)*r) + beta[ch]
			}
		}
	})
}

// groupNormVJP sets dx to the gradient of groupNorm's input x given dy,
// the gradient of its output, using the stats groupNorm saved. With
// x̂ = (x − μ)·r and d = gamma·dy, over each group of M values,
//
//	dx = r·(d − mean(d) − x̂·mean(d·x̂)).
func groupNormVJP(dx, dy, x, gamma []float32, stats []float64, c, n, g int) {
	cg := c / g
	parallelFor(g, func(gi int) {
		m, r := float32(stats[2*gi]), float32(stats[2*gi+1])
		var sd, sdx float64
		for ch := gi * cg; ch < (gi+1)*cg; ch++ {
			xs := x[ch*n : (ch+1)*n]
			for p, v := range dy[ch*n : (ch+1)*n] {
				d := gamma[ch] * v
				sd += float64(d)
				sdx += float64(d * ((xs[p] - m) * r))
			}
		}
		M := float64(cg * n)
		md, mdx := float32(sd/M), float32(sdx/M)
		for ch := gi * cg; ch < (gi+1)*cg; ch++ {
			xs, out := x[ch*n:(ch+1)*n], dx[ch*n:(ch+1)*n]
			for p, v := range dy[ch*n : (ch+1)*n] {
				out[p] = r * (gamma[ch]*v - md - (xs[p]-m)*r*mdx)
			}
		}
	})
}

// sigmoid returns 1/(1 + e^−v), computed in float64.
func sigmoid(v float32) float32 { return float32(1 / (1 + exp(-float64(v)))) }

// silu sets dst = x·sigmoid(x) elementwise; dst may be x.
func silu(dst, x []float32) {
	for i, v := range x {
		dst[i] = v * sigmoid(v)
	}
}

// siluVJP sets dx = dy·silu′(x), where silu′(x) = σ(x)·(1 + x·(1 − σ(x))).
// dx may be dy.
func siluVJP(dx, dy, x []float32) {
	for i, v := range x {
		s := sigmoid(v)
		dx[i] = dy[i] * s * (1 + v*(1-s))
	}
}

// upsample sets dst (c, 2h, 2w) to the nearest-neighbour ×2 upsampling of
// x (c, h, w): dst[ch, i, j] = x[ch, ⌊i/2⌋, ⌊j/2⌋].
func upsample(dst, x []float32, c, h, w int) {
	for ch := range c {
		for i := range 2 * h {
			in := x[(ch*h+i/2)*w : (ch*h+i/2+1)*w]
			out := dst[(ch*2*h+i)*2*w : (ch*2*h+i+1)*2*w]
			for j := range out {
				out[j] = in[j/2]
			}
		}
	}
}

// upsampleVJP sets dx (c, h, w) to the gradient of upsample's input: the
// sum of the 2×2 block of dy (c, 2h, 2w) each input pixel was copied to.
func upsampleVJP(dx, dy []float32, c, h, w int) {
	clear(dx[:c*h*w])
	for ch := range c {
		for i := range 2 * h {
			out := dx[(ch*h+i/2)*w : (ch*h+i/2+1)*w]
			for j, v := range dy[(ch*2*h+i)*2*w : (ch*2*h+i+1)*2*w] {
				out[j/2] += v
			}
		}
	}
}
