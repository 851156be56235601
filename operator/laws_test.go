package operator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// lawTol is the relative tolerance of the operator laws. Everything runs in
// float64 (ε ≈ 2.2e-16); each law is a few dense products of at most a few
// hundred terms, so for well-conditioned operators round-off stays near
// 1e-13. 1e-10 leaves margin, while a real mistake (an index, a transpose, a
// scale) shows up at order 1. The one law that loses accuracy with the
// condition number κ of H, HH†H = H, gets lawTol·max(1, κ/1e3) (its
// round-off grows like κε).
const lawTol = 1e-10

// lawCase is one operator of the law table, built inside its subtest.
type lawCase struct {
	name  string
	build func() (Operator, error)
}

// lawCases returns every operator kind on awkward sizes: 1×1 where valid,
// odd sizes, H ≠ W, shared and per-entry masks, full masks, rank-deficient
// and tall matrices.
func lawCases() []lawCase {
	var cases []lawCase
	add := func(name string, build func() (Operator, error)) {
		cases = append(cases, lawCase{name, build})
	}
	for _, s := range []struct {
		c, h, w  int
		perEntry bool
		p        float64 // probability of keeping an entry
	}{
		{1, 1, 1, false, 1}, {3, 5, 7, false, 0.6}, {3, 4, 6, true, 0.5},
		{2, 3, 3, true, 1}, {1, 9, 2, false, 0.1}, {2, 1, 5, true, 0.8},
	} {
		add(fmt.Sprintf("inpaint/c=%d,h=%d,w=%d,perEntry=%t,p=%g", s.c, s.h, s.w, s.perEntry, s.p),
			func() (Operator, error) {
				n := s.h * s.w
				if s.perEntry {
					n *= s.c
				}
				return NewInpaint(s.c, s.h, s.w, randMask(rand.New(rand.NewPCG(uint64(n), 7)), n, s.p))
			})
	}
	add("identity/c=3,h=5,w=7", func() (Operator, error) { return NewIdentity(3, 5, 7) })
	for _, s := range [][4]int{{1, 2, 2, 2}, {3, 8, 12, 4}, {2, 16, 8, 8}, {1, 6, 10, 2}} {
		add(fmt.Sprintf("box/c=%d,h=%d,w=%d,f=%d", s[0], s[1], s[2], s[3]), func() (Operator, error) {
			return NewBoxSR(s[0], s[1], s[2], s[3])
		})
	}
	for _, s := range [][4]int{{1, 2, 2, 2}, {1, 4, 4, 4}, {3, 12, 20, 4}, {2, 10, 6, 2}, {1, 8, 24, 4}, {1, 2, 14, 2}} {
		add(fmt.Sprintf("bicubic/c=%d,h=%d,w=%d,f=%d", s[0], s[1], s[2], s[3]), func() (Operator, error) {
			return NewBicubicSR(s[0], s[1], s[2], s[3])
		})
	}
	for _, s := range []struct {
		c, h, w   int
		name      string
		kernel    []float64
		threshold float64
	}{
		{1, 1, 1, "identity", []float64{1}, 0},
		{3, 9, 13, "gauss1.5r3", must(GaussianKernel(1.5, 3)), DefaultBlurThreshold},
		{1, 7, 5, "uniform3", must(UniformKernel(3)), 1e-2},
		{2, 11, 11, "gauss1r2", must(GaussianKernel(1, 2)), 0},
		{1, 6, 15, "asymmetric", []float64{0.5, 0.3, 0.2}, 1e-2},
		{2, 4, 3, "gauss0.8r1", must(GaussianKernel(0.8, 1)), DefaultBlurThreshold},
	} {
		add(fmt.Sprintf("blur/c=%d,h=%d,w=%d,kernel=%s,threshold=%g", s.c, s.h, s.w, s.name, s.threshold),
			func() (Operator, error) { return NewBlur(s.c, s.h, s.w, s.kernel, s.threshold) })
	}
	for _, s := range [][3]int{{2, 1, 1}, {3, 5, 7}, {4, 3, 2}} {
		add(fmt.Sprintf("gray/c=%d,h=%d,w=%d", s[0], s[1], s[2]), func() (Operator, error) {
			return NewGray(s[0], s[1], s[2])
		})
	}
	for _, s := range []struct {
		name string
		rows [][]float64
	}{
		{"T-B", tbMatrix},
		{"1x1", [][]float64{{2.5}}},
		{"duplicated-row", [][]float64{{1, 2, 0, -1}, {0.5, 1, 3, 2}, {1, 2, 0, -1}}},
		{"random-3x5", randMatrix(3, 5, 1)},
		{"random-5x3", randMatrix(5, 3, 2)},
		{"column-4x1", randMatrix(4, 1, 3)},
		{"rank1-5x4", [][]float64{{1, 2, 3, 4}, {2, 4, 6, 8}, {-1, -2, -3, -4}, {0, 0, 0, 0}, {3, 6, 9, 12}}},
	} {
		add("dense/"+s.name, func() (Operator, error) { return NewDense(s.rows) })
	}
	return cases
}

// tbMatrix is H of ALGORITHM.md §6.6 T-B.
var tbMatrix = [][]float64{{1, 1, 0, 0}, {0, 1, -1, 0.5}}

func TestOperators(t *testing.T) {
	for i, tc := range lawCases() {
		t.Run("laws/"+tc.name, func(t *testing.T) {
			t.Parallel()
			op, err := tc.build()
			if err != nil {
				t.Fatalf("constructor: %v", err)
			}
			rnd := rand.New(rand.NewPCG(uint64(i), 1))
			for range 3 {
				checkLaws(t, op, rnd)
			}
			checkPanics(t, op)
		})
	}
}

// checkLaws checks the laws every Operator obeys on fresh random vectors,
// and that no method writes its source.
func checkLaws(t *testing.T, op Operator, rnd *rand.Rand) {
	t.Helper()
	x, z := randVec(rnd, op.In()), randVec(rnd, op.In())
	y := randVec(rnd, op.Out())
	x0, y0 := clone(x), clone(y)
	normH, cond := spectralNorm(op)
	tolH := lawTol * max(1, cond/1e3)

	hx := apply(op, Forward, x)
	hty := apply(op, Adjoint, y)
	checkDot(t, "⟨Hx, y⟩ = ⟨x, Hᵀy⟩", floats.Dot(hx, y), floats.Dot(x, hty),
		norm(hx)*norm(y)+norm(x)*norm(hty))

	checkVec(t, "HH†Hx = Hx", apply(op, Forward, apply(op, Pinv, hx)), hx, norm(hx), tolH)
	px := apply(op, Project, x)
	checkVec(t, "Px = H†Hx", apply(op, Pinv, hx), px, norm(x), tolH)
	checkVec(t, "P²x = Px", apply(op, Project, px), px, norm(x), lawTol)
	pz := apply(op, Project, z)
	checkDot(t, "⟨Px, z⟩ = ⟨x, Pz⟩", floats.Dot(px, z), floats.Dot(x, pz), norm(x)*norm(z))

	py := apply(op, Pinv, y)
	checkVec(t, "PH†y = H†y", apply(op, Project, py), py, norm(py), lawTol)

	for _, n := range []struct{ r2, sigmaY2 float64 }{{0.7, 0.3}, {3, 1e-2}, {0, 0.5}} {
		v := make([]float64, op.Out())
		op.Gain(v, y, NoisyGain(n.r2, n.sigmaY2))
		hhtv := apply(op, Forward, apply(op, Adjoint, v))
		floats.Scale(n.r2, hhtv)
		got := clone(hhtv)
		floats.AddScaled(got, n.sigmaY2, v)
		// The residual of a solve is small relative to ‖A‖‖v‖ + ‖y‖, with
		// ‖A‖ = r2‖H‖² + σ² (a backward error); HHᵀv alone can be far
		// smaller than its round-off when v lies near the null space of Hᵀ.
		checkVec(t, fmt.Sprintf("(r2·HHᵀ + σ²)·Gain(y, NoisyGain) = y, r2=%g, σ²=%g", n.r2, n.sigmaY2),
			got, y, (n.r2*normH*normH+n.sigmaY2)*norm(v)+norm(y), lawTol)
	}

	got := make([]float64, op.Out())
	op.Gain(got, y, smoothGain)
	checkVec(t, "Gain(y, g) = g(HHᵀ)y", got, matrixGain(op, y, smoothGain), norm(y), lawTol)

	if !floats.Equal(x, x0) || !floats.Equal(y, y0) {
		t.Errorf("a method modified its source")
	}
}

// checkPanics checks that every map panics with an "operator: " message on
// a dst of the wrong length and on a dst that overlaps the source.
func checkPanics(t *testing.T, op Operator) {
	t.Helper()
	for _, k := range []Kind{Forward, Adjoint, Pinv, Project} {
		ns, nd := Dims(op, k)
		src := make([]float64, ns)
		expectPanic(t, fmt.Sprintf("%v with a short dst", k), func() { Apply(op, k, make([]float64, nd+1), src) })
		expectPanic(t, fmt.Sprintf("%v with a long source", k), func() { Apply(op, k, make([]float64, nd), make([]float64, ns+1)) })
		buf := make([]float64, ns+nd)
		expectPanic(t, fmt.Sprintf("%v with overlapping slices", k), func() { Apply(op, k, buf[ns-1:ns-1+nd], buf[:ns]) })
	}
	m := op.Out()
	expectPanic(t, "NoisyGain with a negative variance", func() { NoisyGain(-1, 1) })
	expectPanic(t, "Gain with a short dst", func() {
		op.Gain(make([]float64, m-1), make([]float64, m), smoothGain)
	})
}

// smoothGain is a continuous gain with g(0) ≠ 0, so that the components
// outside the span of H's singular vectors count, and eigenvalues that are
// zero up to round-off need no threshold.
func smoothGain(s2 float64) float64 { return 0.4 + 1/(1+3*s2) - 0.5*s2*math.Exp(-s2) }

// matrixGain returns g(HHᵀ)y from the eigendecomposition of the dense HHᵀ,
// built column by column from Forward and Adjoint: a reference independent
// of the operators' own spectra.
func matrixGain(op Operator, y []float64, g func(float64) float64) []float64 {
	m := op.Out()
	a := mat.NewSymDense(m, nil)
	e := make([]float64, m)
	for j := range m {
		clear(e)
		e[j] = 1
		col := apply(op, Forward, apply(op, Adjoint, e))
		for i := range j + 1 {
			a.SetSym(i, j, col[i])
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(a, true) {
		panic("eigendecomposition failed")
	}
	var v mat.Dense
	eig.VectorsTo(&v)
	vals := eig.Values(nil)
	c := make([]float64, m)
	mat.NewVecDense(m, c).MulVec(v.T(), mat.NewVecDense(m, clone(y)))
	for i := range c {
		c[i] *= g(max(vals[i], 0))
	}
	out := make([]float64, m)
	mat.NewVecDense(m, out).MulVec(&v, mat.NewVecDense(m, c))
	return out
}

// expectPanic fails unless f panics with a message starting "operator: ".
func expectPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if s, ok := r.(string); !ok || !strings.HasPrefix(s, "operator: ") {
			t.Errorf("%s: got panic %v, want an \"operator: \" message", what, r)
		}
	}()
	f()
}

// spectralNorm returns ‖H‖₂ = s₁ and the condition number s₁/s_r of H over
// its kept singular values. The operators without a Spectrum have all their
// singular values equal, at most 1.
func spectralNorm(op Operator) (norm, cond float64) {
	sp, ok := op.(interface {
		Spectrum() (*mat.Dense, []float64, *mat.Dense, []float64)
	})
	if !ok {
		return 1, 1
	}
	_, sh, _, sw := sp.Spectrum()
	return sh[0] * sw[0], kappa(sh) * kappa(sw)
}

// kappa returns the ratio of the largest to the smallest non-zero value of
// the descending s.
func kappa(s []float64) float64 {
	r := len(s) - 1
	for s[r] == 0 {
		r--
	}
	return s[0] / s[r]
}

// checkDot fails unless the inner products a and b agree to lawTol relative
// to scale, the size of the terms they sum.
func checkDot(t *testing.T, law string, a, b, scale float64) {
	t.Helper()
	if math.Abs(a-b) > lawTol*scale || math.IsNaN(a-b) {
		t.Errorf("%s: %g ≠ %g (difference %.3g, scale %.3g)", law, a, b, a-b, scale)
	}
}

// checkVec fails unless ‖got − want‖ ≤ tol·scale.
func checkVec(t *testing.T, law string, got, want []float64, scale, tol float64) {
	t.Helper()
	d := floats.Distance(got, want, 2)
	if !(d <= tol*scale) {
		t.Errorf("%s: ‖difference‖ = %.3g > %.3g·%.3g", law, d, tol, scale)
	}
}

// apply returns map k of op applied to src in a new slice.
func apply(op Operator, k Kind, src []float64) []float64 {
	_, n := Dims(op, k)
	dst := make([]float64, n)
	Apply(op, k, dst, src)
	return dst
}

// randVec returns n values uniform in [−1, 1).
func randVec(rnd *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 2*rnd.Float64() - 1
	}
	return v
}

// randMask returns n flags, each true with probability p.
func randMask(rnd *rand.Rand, n int, p float64) []bool {
	m := make([]bool, n)
	for i := range m {
		m[i] = rnd.Float64() < p
	}
	m[rnd.IntN(n)] = true // never all holes
	return m
}

// randMatrix returns an m×d matrix of values uniform in [−1, 1), from seed.
func randMatrix(m, d int, seed uint64) [][]float64 {
	rnd := rand.New(rand.NewPCG(seed, 2))
	rows := make([][]float64, m)
	for i := range rows {
		rows[i] = randVec(rnd, d)
	}
	return rows
}

func norm(v []float64) float64 { return floats.Norm(v, 2) }

func clone(v []float64) []float64 { return append([]float64(nil), v...) }
