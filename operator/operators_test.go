package operator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
)

func TestInpaint(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(1, 1))
	const c, h, w = 2, 3, 4
	for _, perEntry := range []bool{false, true} {
		n := h * w
		if perEntry {
			n *= c
		}
		keep := randMask(rnd, n, 0.5)
		op := must(NewInpaint(c, h, w, keep))
		x := randVec(rnd, c*h*w)
		var want []float64
		for i, v := range x {
			if keep[i%n] {
				want = append(want, v)
			}
		}
		if got := apply(op, Forward, x); !floats.Equal(got, want) {
			t.Errorf("perEntry=%t: Forward = %v, want the kept entries %v", perEntry, got, want)
		}
		mask := op.Mask()
		back := apply(op, Pinv, want)
		for i := range x {
			if mask[i] != keep[i%n] || (mask[i] && back[i] != x[i]) || (!mask[i] && back[i] != 0) {
				t.Fatalf("perEntry=%t: entry %d: mask %t, H†Hx = %g, x = %g", perEntry, i, mask[i], back[i], x[i])
			}
		}
	}
}

func TestBoxSR(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(2, 1))
	for _, s := range [][4]int{{3, 8, 12, 4}, {1, 16, 8, 8}, {2, 6, 2, 2}} {
		c, h, w, f := s[0], s[1], s[2], s[3]
		op := must(NewBoxSR(c, h, w, f))
		if op.Factor() != f {
			t.Errorf("%v: Factor = %d", s, op.Factor())
		}
		// Average pooling: output pixel o of a side reads pixels f·o + t
		// with weight 1/f.
		box := slices.Repeat([]float64{1 / float64(f)}, f)
		pool := func(x []float64) []float64 {
			return direct(x, c, h, w, f, box, func(o, t int) int { return f*o + t })
		}
		checkForward(t, fmt.Sprint(s), op, pool, rnd, 1e-15)
		// H† is nearest upsampling, bit for bit.
		y := randVec(rnd, op.Out())
		up := apply(op, Pinv, y)
		ho, wo := h/f, w/f
		for ch := range c {
			for i := range h {
				for j := range w {
					if v, u := up[(ch*h+i)*w+j], y[(ch*ho+i/f)*wo+j/f]; v != u {
						t.Fatalf("%v: H†y at (%d,%d,%d) = %v, want %v exactly", s, ch, i, j, v, u)
					}
				}
			}
		}
	}
}

// bicubic4 is the normalised 1-D kernel of ALGORITHM.md §4.2 (6 decimals).
var bicubic4 = []float64{
	-0.001709, -0.010986, -0.018311, -0.011963, 0.022705, 0.097412, 0.181885, 0.240967,
	0.240967, 0.181885, 0.097412, 0.022705, -0.011963, -0.018311, -0.010986, -0.001709,
}

func TestBicubicKernel(t *testing.T) {
	t.Parallel()
	k4 := bicubicKernel(4)
	if len(k4) != len(bicubic4) {
		t.Fatalf("f=4: %d taps, want %d", len(k4), len(bicubic4))
	}
	for i, v := range k4 {
		if math.Abs(v-bicubic4[i]) > 1e-6 {
			t.Errorf("f=4: κ_%d = %.7f, want %.6f (ALGORITHM.md §4.2)", i, v, bicubic4[i])
		}
	}
	k2 := bicubicKernel(2)
	if len(k2) != 8 || math.Abs(floats.Sum(k2)-1) > 1e-15 {
		t.Errorf("f=2: %d taps summing to %g, want 8 summing to 1", len(k2), floats.Sum(k2))
	}
	for i := range k2 {
		if k2[i] != k2[len(k2)-1-i] {
			t.Errorf("f=2: kernel not symmetric: %v", k2)
			break
		}
	}
}

func TestBicubicSpectrum(t *testing.T) {
	t.Parallel()
	op := must(NewBicubicSR(1, 256, 256, 4))
	// ALGORITHM.md §4.2: at n = 256 the 64 1-D singular values lie in
	// [0.3485, 0.5000] (4 decimals), none truncated.
	_, s, _, _ := op.Spectrum()
	if len(s) != 64 || s[0] > 0.50005 || s[63] < 0.34845 {
		t.Errorf("%d singular values in [%.5f, %.5f], want 64 in [0.3485, 0.5000]", len(s), s[len(s)-1], s[0])
	}
}

func TestBicubicForward(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(3, 1))
	for _, s := range [][4]int{{2, 12, 20, 4}, {1, 10, 6, 2}, {1, 4, 8, 4}} {
		c, h, w, f := s[0], s[1], s[2], s[3]
		// Output pixel o of a side reads pixels f·o + f/2 − 2f + t.
		ref := func(x []float64) []float64 {
			return direct(x, c, h, w, f, bicubicKernel(f), func(o, t int) int { return f*o + f/2 - 2*f + t })
		}
		checkForward(t, fmt.Sprint(s), must(NewBicubicSR(c, h, w, f)), ref, rnd, 1e-12)
	}
}

func TestBlurForward(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(4, 1))
	for _, tc := range []struct {
		c, h, w int
		kernel  []float64
	}{
		{2, 9, 14, must(GaussianKernel(1.2, 3))},
		{1, 5, 7, must(UniformKernel(5))},
		{3, 6, 3, []float64{0.6, 0.3, 0.1}}, // asymmetric: checks the flip
		{1, 1, 1, []float64{0.7}},
	} {
		// A convolution: output pixel o reads pixel o + r − t with tap t.
		r := len(tc.kernel) / 2
		ref := func(x []float64) []float64 {
			return direct(x, tc.c, tc.h, tc.w, 1, tc.kernel, func(o, t int) int { return o + r - t })
		}
		checkForward(t, fmt.Sprintf("c=%d,h=%d,w=%d,kernel=%v", tc.c, tc.h, tc.w, tc.kernel),
			must(NewBlur(tc.c, tc.h, tc.w, tc.kernel, 0)), ref, rnd, 1e-12)
	}
}

// checkForward fails unless op's Forward matches ref on a random image to
// tol in every entry.
func checkForward(t *testing.T, name string, op Operator, ref func(x []float64) []float64, rnd *rand.Rand, tol float64) {
	t.Helper()
	x := randVec(rnd, op.In())
	if d := floats.Distance(apply(op, Forward, x), ref(x), math.Inf(1)); d > tol {
		t.Errorf("%s: Forward differs from the reference by %g", name, d)
	}
}

// direct applies the 2-D kernel k_a·k_b to every channel, written as plain
// nested loops: output pixel (I, J) of a C×(H/f)×(W/f) image is
// Σ_a Σ_b k_a k_b x(pixel(I, a), pixel(J, b)), pixels reflected until inside
// the image.
func direct(x []float64, c, h, w, f int, k []float64, pixel func(o, t int) int) []float64 {
	ho, wo := h/f, w/f
	y := make([]float64, c*ho*wo)
	for ch := range c {
		for I := range ho {
			for J := range wo {
				s := 0.0
				for a, ka := range k {
					for b, kb := range k {
						i, j := reflectTest(pixel(I, a), h), reflectTest(pixel(J, b), w)
						s += ka * kb * x[(ch*h+i)*w+j]
					}
				}
				y[(ch*ho+I)*wo+J] = s
			}
		}
	}
	return y
}

// reflectTest reflects j into [0, n) one bound at a time (j < 0 ↦ −j−1,
// j ≥ n ↦ 2n−1−j), written independently of reflect.
func reflectTest(j, n int) int {
	for j < 0 || j >= n {
		if j < 0 {
			j = -j - 1
		} else {
			j = 2*n - 1 - j
		}
	}
	return j
}

// must returns v, panicking on an error: for constructors given valid
// parameters in tests.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestBlurThreshold(t *testing.T) {
	t.Parallel()
	k := must(GaussianKernel(2, 6))
	op := must(NewBlur(1, 32, 32, k, DefaultBlurThreshold))
	_, s, _, _ := op.Spectrum()
	kept := 0
	for _, v := range s {
		if v != 0 && v < DefaultBlurThreshold {
			t.Errorf("kept singular value %g below the threshold", v)
		}
		if v != 0 {
			kept++
		}
	}
	if kept == 0 || kept == len(s) {
		t.Errorf("kept %d of %d singular values; this kernel should lose some but not all", kept, len(s))
	}
	if got := op.Kernel(); !floats.Equal(got, k) {
		t.Errorf("Kernel = %v, want %v", got, k)
	}
}

func TestGaussianKernel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sigma  float64
		radius int
	}{{1.5, 3}, {0.3, 2}, {3, 30}, {1, 0}} {
		k := must(GaussianKernel(tc.sigma, tc.radius))
		// Closed form: the normaliser is Σ_m exp(−m²/2σ²), summed here
		// from the outside in.
		z := 1.0
		for m := 1; m <= tc.radius; m++ {
			z += 2 * math.Exp(-float64(m*m)/(2*tc.sigma*tc.sigma))
		}
		for i, v := range k {
			m := float64(i - tc.radius)
			if want := math.Exp(-m*m/(2*tc.sigma*tc.sigma)) / z; math.Abs(v-want) > 1e-15 {
				t.Errorf("σ=%g, r=%d: tap %d = %g, want %g", tc.sigma, tc.radius, i, v, want)
			}
		}
	}
	// ALGORITHM.md §4.4: σ = 3 with 60 taps has centre taps 0.08066,
	// 0.10648, 0.12579, 0.13298, …; the missing 61st tap is e^-50.
	k, _ := GaussianKernel(3, 30)
	for i, want := range []float64{0.08066, 0.10648, 0.12579, 0.13298, 0.12579, 0.10648, 0.08066} {
		if math.Abs(k[27+i]-want) > 5e-6 {
			t.Errorf("σ=3, r=30: tap %d = %.6f, want %.5f", 27+i, k[27+i], want)
		}
	}
	u, err := UniformKernel(9)
	if err != nil || len(u) != 9 || u[4] != 1.0/9 {
		t.Errorf("UniformKernel(9) = %v, %v", u, err)
	}
}

func TestGray(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(5, 1))
	const c, h, w = 3, 4, 5
	op := must(NewGray(c, h, w))
	x := randVec(rnd, c*h*w)
	y := apply(op, Forward, x)
	up := apply(op, Pinv, y)
	for p := range h * w {
		if mean := (x[p] + x[h*w+p] + x[2*h*w+p]) / 3; math.Abs(y[p]-mean) > 1e-15 {
			t.Errorf("pixel %d: Forward = %g, want the channel mean %g", p, y[p], mean)
		}
		for ch := range c {
			if up[ch*h*w+p] != y[p] {
				t.Errorf("pixel %d, channel %d: H†y = %g, want %g", p, ch, up[ch*h*w+p], y[p])
			}
		}
	}
}

func TestDenseTB(t *testing.T) {
	t.Parallel()
	op := must(NewDense(tbMatrix))
	// ALGORITHM.md §6.6 T-B (6 decimals); H† is 4×2.
	pinv := [][]float64{{.642857, -.285714}, {.357143, .285714}, {.285714, -.571429}, {-.142857, .285714}}
	proj := [][]float64{
		{.642857, .357143, .285714, -.142857}, {.357143, .642857, -.285714, .142857},
		{.285714, -.285714, .571429, -.285714}, {-.142857, .142857, -.285714, .142857},
	}
	gotPinv, _ := op.Factors(Pinv)
	gotProj, _ := op.Factors(Project)
	for i := range 4 {
		for j := range 4 {
			if j < 2 && math.Abs(gotPinv.At(i, j)-pinv[i][j]) > 1e-6 {
				t.Errorf("H†[%d][%d] = %.7f, want %.6f", i, j, gotPinv.At(i, j), pinv[i][j])
			}
			if math.Abs(gotProj.At(i, j)-proj[i][j]) > 1e-6 {
				t.Errorf("P[%d][%d] = %.7f, want %.6f", i, j, gotProj.At(i, j), proj[i][j])
			}
		}
	}
	// Forward is H itself (nothing truncated).
	x := []float64{0.3, -1.2, 0.7, 2}
	want := []float64{x[0] + x[1], x[1] - x[2] + 0.5*x[3]}
	if got := apply(op, Forward, x); floats.Distance(got, want, math.Inf(1)) > 1e-15 {
		t.Errorf("Hx = %v, want %v", got, want)
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	for k, want := range map[Kind]string{Forward: "H", Adjoint: "Hᵀ", Pinv: "H†", Project: "P", Kind(9): "Kind(?)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
