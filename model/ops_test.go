package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// This file checks every op against a float64 twin written independently
// from NETWORK.md (naive loops, bounds checked per element), and every VJP
// against central finite differences of that twin, on odd small sizes.

// newRNG returns the seeded generator every test draws its inputs from.
func newRNG() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// randn returns n float32 values from N(0, scale²).
func randn(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(scale * rng.NormFloat64())
	}
	return v
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// relErr returns ‖a − b‖/‖b‖.
func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

// opCase is one op at one size: the float32 op under test, its VJP and
// the float64 twin.
type opCase struct {
	name  string
	in    int                             // input length
	scale float64                         // input standard deviation
	fwd   func(x []float32) []float32     // the op
	vjp   func(x, dy []float32) []float32 // its VJP at x
	ref   func(x []float64) []float64     // float64 twin of the op
}

// Tolerances: float32 results against float64 ones over a few hundred
// terms differ by ~1e-7 relative; the finite differences below are exact
// to ~1e-9 (step 1e-5 in float64, truncation O(h²)). Both bounds leave
// room for float32 rounding while catching any wrong term, which is O(1).
const (
	fwdTol = 1e-5
	vjpTol = 1e-5
	fdStep = 1e-5
)

func (c opCase) check(t *testing.T, rng *rand.Rand) {
	t.Helper()
	x := randn(rng, c.in, c.scale)
	y := c.fwd(x)
	want := c.ref(to64(x))
	if len(y) != len(want) {
		t.Fatalf("%s: output length %d, want %d", c.name, len(y), len(want))
	}
	ef := relErr(to64(y), want)
	if ef > fwdTol {
		t.Errorf("%s: forward relative error %.3g > %g", c.name, ef, fwdTol)
	}
	dy := randn(rng, len(y), 1)
	got := to64(c.vjp(x, dy))
	fd := make([]float64, c.in)
	xp := to64(x)
	dy64 := to64(dy)
	for k := range xp {
		x0 := xp[k]
		xp[k] = x0 + fdStep
		fp := dot(dy64, c.ref(xp))
		xp[k] = x0 - fdStep
		fm := dot(dy64, c.ref(xp))
		xp[k] = x0
		fd[k] = (fp - fm) / (2 * fdStep)
	}
	eb := relErr(got, fd)
	if eb > vjpTol {
		t.Errorf("%s: VJP relative error %.3g > %g against finite differences", c.name, eb, vjpTol)
	}
	t.Logf("relative errors: forward %.2g, VJP %.2g", ef, eb)
}

// refConv is the float64 twin of conv3x3 (k = 3, padding 1) and conv1x1
// (k = 1, padding 0), in PyTorch's output-size formula.
func refConv(x, w, b []float64, cin, h, wd, cout, k, s int) []float64 {
	pad := k / 2
	ho, wo := (h+2*pad-k)/s+1, (wd+2*pad-k)/s+1
	y := make([]float64, cout*ho*wo)
	for o := range cout {
		for i := range ho {
			for j := range wo {
				sum := b[o]
				for c := range cin {
					for ky := range k {
						for kx := range k {
							iy, ix := i*s+ky-pad, j*s+kx-pad
							if iy >= 0 && iy < h && ix >= 0 && ix < wd {
								sum += w[((o*cin+c)*k+ky)*k+kx] * x[(c*h+iy)*wd+ix]
							}
						}
					}
				}
				y[(o*ho+i)*wo+j] = sum
			}
		}
	}
	return y
}

func refGroupNorm(x, gamma, beta []float64, c, n, g int) []float64 {
	y := make([]float64, len(x))
	m := c / g * n
	for gi := range g {
		xs := x[gi*m : (gi+1)*m]
		var mean, v float64
		for _, e := range xs {
			mean += e
		}
		mean /= float64(m)
		for _, e := range xs {
			v += (e - mean) * (e - mean)
		}
		v /= float64(m)
		for i := range xs {
			ch := (gi*m + i) / n
			y[gi*m+i] = gamma[ch]*(xs[i]-mean)/math.Sqrt(v+1e-5) + beta[ch]
		}
	}
	return y
}

func refSiLU(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v / (1 + math.Exp(-v))
	}
	return y
}

func refUpsample(x []float64, c, h, w int) []float64 {
	y := make([]float64, c*4*h*w)
	for ch := range c {
		for i := range 2 * h {
			for j := range 2 * w {
				y[(ch*2*h+i)*2*w+j] = x[(ch*h+i/2)*w+j/2]
			}
		}
	}
	return y
}

func refAttention(qkv []float64, ch, n, heads int) []float64 {
	d := ch / heads
	q, k, v := qkv[:ch*n], qkv[ch*n:2*ch*n], qkv[2*ch*n:]
	o := make([]float64, ch*n)
	for h := range heads {
		for i := range n {
			s := make([]float64, n)
			mx := math.Inf(-1)
			for j := range n {
				for c := h * d; c < (h+1)*d; c++ {
					s[j] += q[c*n+i] * k[c*n+j]
				}
				s[j] /= math.Sqrt(float64(d))
				mx = math.Max(mx, s[j])
			}
			var z float64
			for j := range s {
				s[j] = math.Exp(s[j] - mx)
				z += s[j]
			}
			for c := h * d; c < (h+1)*d; c++ {
				for j := range n {
					o[c*n+i] += s[j] / z * v[c*n+j]
				}
			}
		}
	}
	return o
}

func convCases(rng *rand.Rand) []opCase {
	var cs []opCase
	for _, sz := range []struct{ cin, h, w, cout, s int }{
		{3, 7, 9, 5, 1}, {3, 7, 9, 5, 2}, {2, 1, 4, 3, 2}, {1, 2, 3, 2, 1}, {4, 6, 5, 3, 2},
	} {
		w := randn(rng, sz.cout*sz.cin*9, 0.3)
		b := randn(rng, sz.cout, 0.3)
		ho, wo := convOut(sz.h, sz.s), convOut(sz.w, sz.s)
		cs = append(cs, opCase{
			name: fmt.Sprintf("conv3x3/cin=%d,h=%d,w=%d,cout=%d,s=%d", sz.cin, sz.h, sz.w, sz.cout, sz.s),
			in:   sz.cin * sz.h * sz.w, scale: 1,
			fwd: func(x []float32) []float32 {
				y := make([]float32, sz.cout*ho*wo)
				conv3x3(y, x, w, b, sz.cin, sz.h, sz.w, sz.cout, sz.s)
				return y
			},
			vjp: func(_, dy []float32) []float32 {
				dx := make([]float32, sz.cin*sz.h*sz.w)
				conv3x3VJP(dx, dy, w, sz.cin, sz.h, sz.w, sz.cout, sz.s)
				return dx
			},
			ref: func(x []float64) []float64 {
				return refConv(x, to64(w), to64(b), sz.cin, sz.h, sz.w, sz.cout, 3, sz.s)
			},
		})
	}
	for _, sz := range []struct{ cin, n, cout int }{{3, 11, 5}, {6, 7, 18}, {1, 1, 1}} {
		w := randn(rng, sz.cout*sz.cin, 0.3)
		b := randn(rng, sz.cout, 0.3)
		cs = append(cs, opCase{
			name: fmt.Sprintf("conv1x1/cin=%d,n=%d,cout=%d", sz.cin, sz.n, sz.cout),
			in:   sz.cin * sz.n, scale: 1,
			fwd: func(x []float32) []float32 {
				y := make([]float32, sz.cout*sz.n)
				conv1x1(y, x, w, b, sz.cin, sz.n, sz.cout)
				return y
			},
			vjp: func(_, dy []float32) []float32 {
				dx := make([]float32, sz.cin*sz.n)
				conv1x1VJP(dx, dy, w, sz.cin, sz.n, sz.cout)
				return dx
			},
			ref: func(x []float64) []float64 {
				return refConv(x, to64(w), to64(b), sz.cin, 1, sz.n, sz.cout, 1, 1)
			},
		})
	}
	return cs
}

func otherCases(rng *rand.Rand) []opCase {
	var cs []opCase
	for _, sz := range []struct{ c, n, g int }{{6, 35, 3}, {5, 9, 1}, {4, 3, 4}} {
		gamma := randn(rng, sz.c, 1)
		beta := randn(rng, sz.c, 1)
		stats := make([]float64, 2*sz.g)
		cs = append(cs, opCase{
			name: fmt.Sprintf("groupnorm/c=%d,n=%d,g=%d", sz.c, sz.n, sz.g),
			in:   sz.c * sz.n, scale: 3, // a large mean and spread, as activations have
			fwd: func(x []float32) []float32 {
				y := make([]float32, len(x))
				groupNorm(y, x, gamma, beta, stats, sz.c, sz.n, sz.g)
				return y
			},
			vjp: func(x, dy []float32) []float32 {
				dx := make([]float32, len(x))
				groupNormVJP(dx, dy, x, gamma, stats, sz.c, sz.n, sz.g)
				return dx
			},
			ref: func(x []float64) []float64 { return refGroupNorm(x, to64(gamma), to64(beta), sz.c, sz.n, sz.g) },
		})
	}
	cs = append(cs, opCase{
		name: "silu/n=53", in: 53, scale: 5,
		fwd: func(x []float32) []float32 {
			y := make([]float32, len(x))
			silu(y, x)
			return y
		},
		vjp: func(x, dy []float32) []float32 {
			dx := make([]float32, len(x))
			siluVJP(dx, dy, x)
			return dx
		},
		ref: refSiLU,
	})
	for _, sz := range []struct{ c, h, w int }{{2, 3, 5}, {1, 1, 1}} {
		cs = append(cs, opCase{
			name: fmt.Sprintf("upsample/c=%d,h=%d,w=%d", sz.c, sz.h, sz.w),
			in:   sz.c * sz.h * sz.w, scale: 1,
			fwd: func(x []float32) []float32 {
				y := make([]float32, 4*len(x))
				upsample(y, x, sz.c, sz.h, sz.w)
				return y
			},
			vjp: func(x, dy []float32) []float32 {
				dx := make([]float32, len(x))
				upsampleVJP(dx, dy, sz.c, sz.h, sz.w)
				return dx
			},
			ref: func(x []float64) []float64 { return refUpsample(x, sz.c, sz.h, sz.w) },
		})
	}
	for _, sz := range []struct{ ch, n, heads int }{{6, 7, 2}, {6, 5, 3}, {3, 9, 1}} {
		probs := make([]float32, sz.heads*sz.n*sz.n)
		qkv := make([]float32, 3*sz.ch*sz.n)
		cs = append(cs, opCase{
			name: fmt.Sprintf("attention/ch=%d,n=%d,heads=%d", sz.ch, sz.n, sz.heads),
			in:   3 * sz.ch * sz.n, scale: 1.5, // peaked softmax rows
			fwd: func(x []float32) []float32 {
				copy(qkv, x)
				o := make([]float32, sz.ch*sz.n)
				attention(o, probs, qkv, sz.ch, sz.n, sz.heads)
				return o
			},
			vjp: func(_, dy []float32) []float32 {
				dx := make([]float32, len(qkv))
				ds := make([]float32, len(probs))
				attentionVJP(dx, dy, qkv, probs, ds, sz.ch, sz.n, sz.heads)
				return dx
			},
			ref: func(x []float64) []float64 { return refAttention(x, sz.ch, sz.n, sz.heads) },
		})
	}
	return cs
}

func TestOps(t *testing.T) {
	rng := newRNG()
	for _, c := range append(convCases(rng), otherCases(rng)...) {
		t.Run(c.name, func(t *testing.T) { c.check(t, rng) })
	}
}

func TestLinear(t *testing.T) {
	rng := newRNG()
	const in, out = 7, 5
	w, b, x := randn(rng, out*in, 1), randn(rng, out, 1), randn(rng, in, 1)
	y := make([]float32, out)
	linear(y, x, w, b)
	want := refConv(to64(x), to64(w), to64(b), in, 1, 1, out, 1, 1)
	if e := relErr(to64(y), want); e > fwdTol {
		t.Errorf("linear: relative error %.3g > %g", e, fwdTol)
	}
}

func TestTaps(t *testing.T) {
	// Brute force: the range must be exactly the outputs whose tap is inside.
	for n := 1; n <= 6; n++ {
		for s := 1; s <= 2; s++ {
			no := convOut(n, s)
			for k := range 3 {
				lo, hi := taps(n, no, s, k)
				for o := range no {
					inside := o*s+k-1 >= 0 && o*s+k-1 < n
					if inside != (o >= lo && o < hi) {
						t.Errorf("taps(n=%d, no=%d, s=%d, k=%d) = [%d, %d), wrong for o = %d", n, no, s, k, lo, hi, o)
					}
				}
			}
		}
	}
}
