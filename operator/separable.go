package operator

import (
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// eps is the float64 machine epsilon, the unit of the round-off tolerance on
// singular values.
const eps = 0x1p-52

// spectral is one dense 1-D factor A (m×n) of a separable operator with what
// its maps need, all from the thin SVD A = U diag(s) Vᵀ.
//
// Singular values below the caller's threshold, or at most the round-off
// level max(m,n)·ε·s₁ (the usual pseudo-inverse tolerance, as MATLAB's
// pinv), count as zero. A is then rebuilt without them, so that the
// operator laws (AA⁺A = A, Π = A⁺A) hold to round-off for the matrix
// actually applied.
type spectral struct {
	a    *mat.Dense // m×n: A, without the dropped singular values
	pinv *mat.Dense // n×m: A⁺ = V diag(1/s) Uᵀ over the kept values
	proj *mat.Dense // n×n: Π = A⁺A = V Vᵀ over the kept values
	u    *mat.Dense // m×min(m,n): left singular vectors
	s    []float64  // min(m,n) singular values, descending, the dropped ones 0
}

// newSpectral factorizes a, dropping singular values below threshold. It
// returns an error if no singular value is kept or if the pseudo-inverse
// overflows (entries too small for float64).
func newSpectral(a *mat.Dense, threshold float64) (*spectral, error) {
	m, n := a.Dims()
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		return nil, errorf("SVD of a %d×%d matrix did not converge", m, n)
	}
	s := svd.Values(nil)
	floor := float64(max(m, n)) * eps * s[0]
	r := 0
	for r < len(s) && s[r] >= threshold && s[r] > floor {
		r++
	}
	if r == 0 {
		return nil, errorf("rank 0: no singular value of the %d×%d matrix is above %g (the largest is %g)",
			m, n, max(threshold, floor), s[0])
	}
	clear(s[r:])
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	ur, vr := u.Slice(0, m, 0, r), v.Slice(0, n, 0, r)

	sp := &spectral{u: &u, s: s, pinv: new(mat.Dense), proj: new(mat.Dense)}
	var vs mat.Dense
	vs.Apply(func(_, j int, x float64) float64 { return x / s[j] }, vr)
	sp.pinv.Mul(&vs, ur.T())
	sp.proj.Mul(vr, vr.T())
	if r < len(s) {
		var us mat.Dense
		us.Apply(func(_, j int, x float64) float64 { return x * s[j] }, ur)
		sp.a = new(mat.Dense)
		sp.a.Mul(&us, vr.T())
	} else {
		sp.a = mat.DenseCopyOf(a)
	}
	if !finite(sp.pinv.RawMatrix().Data) || !finite(sp.a.RawMatrix().Data) {
		return nil, errorf("the pseudo-inverse of the %d×%d matrix overflows float64 (smallest kept singular value %g)",
			m, n, s[r-1])
	}
	return sp, nil
}

// matrix returns the 1-D matrix of map k.
func (sp *spectral) matrix(k Kind) mat.Matrix {
	switch k {
	case Forward:
		return sp.a
	case Adjoint:
		return sp.a.T()
	case Pinv:
		return sp.pinv
	case Project:
		return sp.proj
	}
	panic("operator: unknown kind")
}

// fullU reports whether U is square, i.e. spans the whole measurement space.
func (sp *spectral) fullU() bool {
	m, k := sp.u.Dims()
	return m == k
}

// separable applies X_c ↦ L X_c Rᵀ to every channel X_c (H×W) of a planar
// image, where L is a map of the factor along the height and R the same map
// of the factor along the width. H = A_h ⊗ A_w per channel, so every map
// (H, Hᵀ, H†, P) has that form and the 2-D singular values are the
// products s_h,i·s_w,j. Bicubic super-resolution, blur and (with one
// channel, W = 1 and the 1×1 factor [1]) dense matrices share it.
type separable struct {
	shape
	rows, cols *spectral // factors along the height and the width
}

// newSeparable returns the separable operator on images of shape s whose
// factor along a side of n pixels is build(n), dropping 1-D singular values
// below threshold. One factorization serves both sides when H = W.
func newSeparable(s shape, threshold float64, build func(n int) *mat.Dense) (separable, error) {
	if s.h > MaxSide || s.w > MaxSide {
		return separable{}, errorf("image sides h=%d, w=%d exceed %d, the limit for SVD-based operators", s.h, s.w, MaxSide)
	}
	rows, err := newSpectral(build(s.h), threshold)
	if err != nil {
		return separable{}, err
	}
	cols := rows
	if s.w != s.h {
		if cols, err = newSpectral(build(s.w), threshold); err != nil {
			return separable{}, err
		}
	}
	return separable{shape: s, rows: rows, cols: cols}, nil
}

// Out returns the length of a measurement.
func (op *separable) Out() int {
	m, _ := op.rows.a.Dims()
	q, _ := op.cols.a.Dims()
	return op.c * m * q
}

// Forward sets dst (length Out) to H x.
func (op *separable) Forward(dst, x []float64) { op.apply(Forward, dst, x) }

// Adjoint sets dst (length In) to Hᵀ y.
func (op *separable) Adjoint(dst, y []float64) { op.apply(Adjoint, dst, y) }

// Pinv sets dst (length In) to H† y.
func (op *separable) Pinv(dst, y []float64) { op.apply(Pinv, dst, y) }

// Project sets dst (length In) to P x = H†H x.
func (op *separable) Project(dst, x []float64) { op.apply(Project, dst, x) }

// Gain sets dst (length Out) to g(HHᵀ) y through the 1-D SVDs (see
// Spectrum for the formula).
func (op *separable) Gain(dst, y []float64, g func(s2 float64) float64) {
	n := op.Out()
	checkLens(dst, n, y, n)
	g0 := g(0)
	uh, uw := op.rows.u, op.cols.u
	_, kh := uh.Dims()
	_, kw := uw.Dims()
	z := make([]float64, op.c*kh*kw)
	sandwich(z, y, op.c, uh.T(), uw.T())
	var perp []float64
	if g0 != 0 && !(op.rows.fullU() && op.cols.fullU()) {
		// Measurements outside span(U_h ⊗ U_w) meet a zero singular value.
		perp = make([]float64, n)
		sandwich(perp, z, op.c, uh, uw)
		floats.SubTo(perp, y, perp)
	}
	table := op.GainTable(g)
	for i := range z {
		z[i] *= table[i%(kh*kw)]
	}
	sandwich(dst, z, op.c, uh, uw)
	if perp != nil {
		floats.AddScaled(dst, g0, perp)
	}
}

// GainTable returns g(s_h,i²·s_w,j²) at index i·k_w + j, the gains G of
// Spectrum's formula (k_h, k_w the columns of U_h, U_w), each computed
// once for all channels.
func (op *separable) GainTable(g func(s2 float64) float64) []float64 {
	sh, sw := op.rows.s, op.cols.s
	t := make([]float64, len(sh)*len(sw))
	for i, a := range sh {
		for j, b := range sw {
			t[i*len(sw)+j] = g(a * a * b * b)
		}
	}
	return t
}

// Factors returns copies of the 1-D matrices L (along the height) and R
// (along the width) of map k: the map sends every channel X_c to L X_c Rᵀ.
// This is all a GPU needs to apply the operator. It panics for an unknown
// Kind.
func (op *separable) Factors(k Kind) (rows, cols *mat.Dense) {
	return mat.DenseCopyOf(op.rows.matrix(k)), mat.DenseCopyOf(op.cols.matrix(k))
}

// Spectrum returns copies of the left singular vectors U (m×min(m,n)) and
// singular values s (descending, dropped ones 0) of the 1-D factors along
// the height and the width. Per channel, Gain computes
//
//	Y ↦ U_h[G ⊙ (U_hᵀ Y U_w)]U_wᵀ + g₀·(Y − U_h U_hᵀ Y U_w U_wᵀ)
//
// with G_ij = g(s_h,i²·s_w,j²) and g₀ = g(0); the last term vanishes when
// both U are square.
func (op *separable) Spectrum() (uRows *mat.Dense, sRows []float64, uCols *mat.Dense, sCols []float64) {
	return mat.DenseCopyOf(op.rows.u), append([]float64(nil), op.rows.s...),
		mat.DenseCopyOf(op.cols.u), append([]float64(nil), op.cols.s...)
}

// apply sets dst to map k of the operator applied to src.
func (op *separable) apply(k Kind, dst, src []float64) {
	sandwich(dst, src, op.c, op.rows.matrix(k), op.cols.matrix(k))
}

// sandwich sets each of the c planar channels of dst to L X Rᵀ, X being the
// matching channel of src; L (p×h) and R (q×w) fix the shapes.
func sandwich(dst, src []float64, c int, l, r mat.Matrix) {
	p, h := l.Dims()
	q, w := r.Dims()
	checkLens(dst, c*p*q, src, c*h*w)
	var lx mat.Dense
	for k := range c {
		x := mat.NewDense(h, w, src[k*h*w:(k+1)*h*w])
		y := mat.NewDense(p, q, dst[k*p*q:(k+1)*p*q])
		lx.Mul(l, x)
		y.Mul(&lx, r.T())
	}
}

// tapMatrix returns the rows×n matrix whose row q applies kernel to the
// pixels stride·q + offset + t, t = 0 … len(kernel)−1, reflected into
// [0, n); taps landing on the same pixel add up.
func tapMatrix(rows, n, stride, offset int, kernel []float64) *mat.Dense {
	a := mat.NewDense(rows, n, nil)
	for q := range rows {
		for t, k := range kernel {
			j := reflect(stride*q+offset+t, n)
			a.Set(q, j, a.At(q, j)+k)
		}
	}
	return a
}

// reflect maps a pixel index onto [0, n) by half-sample symmetric padding:
// j < 0 ↦ −j−1 and j ≥ n ↦ 2n−1−j, repeated (period 2n) for taps more than
// one image away, which only tiny images meet.
func reflect(j, n int) int {
	j %= 2 * n
	if j < 0 {
		j += 2 * n
	}
	if j >= n {
		j = 2*n - 1 - j
	}
	return j
}

// normalise scales v to sum 1.
func normalise(v []float64) {
	floats.Scale(1/floats.Sum(v), v)
}
