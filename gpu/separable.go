package gpu

import (
	"gonum.org/v1/gonum/mat"

	"conjure/operator"
	"conjure/sampler"
)

// separableParams mirrors struct Params of shaders/separable.wgsl.
type separableParams struct {
	N, Rows, Cols, Inner uint32
	Sab, Sai, Sat        uint32
	Sbb, Sbt, Sbj        uint32
	Pad0, Pad1           uint32
}

// The kernels of shaders/separable.wgsl share one layout: dst and two
// sources (the factors of a product; for the gain, its table, bound twice).
var (
	separableStorage = []access{readWrite, readOnly, readOnly}
	matmulFwd        = &kernel{file: "separable.wgsl", entry: "matmul_fwd", wg: defaultWG, storage: separableStorage, params: 48}
	gainFwd          = &kernel{file: "separable.wgsl", entry: "gain_fwd", wg: defaultWG, storage: separableStorage, params: 48}
)

// factored is a separable operator (operator.BicubicSR, Blur, Dense): map
// k sends every channel X (h×w) to L·X·Rᵀ.
type factored interface {
	operator.Operator
	Shape() (c, h, w int)
	Factors(k operator.Kind) (rows, cols *mat.Dense)
	Spectrum() (uRows *mat.Dense, sRows []float64, uCols *mat.Dense, sCols []float64)
	GainTable(g func(s2 float64) float64) []float64
}

// matrix is a row-major matrix on the device, or the transpose of one
// (t): element (i, j) sits at i·rs + j·cs.
type matrix struct {
	buf        *Buffer
	rows, cols int
	rs, cs     int
}

func newMatrix(d *Device, a *mat.Dense) (matrix, error) {
	r, c := a.Dims()
	buf, err := d.NewBuffer(r * c)
	if err != nil {
		return matrix{}, err
	}
	if err := buf.Write(mat.DenseCopyOf(a).RawMatrix().Data); err != nil {
		buf.Destroy()
		return matrix{}, err
	}
	return matrix{buf: buf, rows: r, cols: c, rs: c, cs: 1}, nil
}

// t returns the transpose, sharing the buffer.
func (m matrix) t() matrix {
	return matrix{buf: m.buf, rows: m.cols, cols: m.rows, rs: m.cs, cs: m.rs}
}

// separable is a factored operator's matrices on the device, uploaded on
// first use of each map.
type separable struct {
	op      factored
	c, h, w int
	maps    [operator.Project + 1]*[2]matrix
	// The left singular vectors, for gains.
	uh, uw       matrix
	full         bool // both U are square: no component outside their span
	haveSpectrum bool
}

func newSeparable(op factored) *separable {
	c, h, w := op.Shape()
	return &separable{op: op, c: c, h: h, w: w}
}

func (s *separable) destroy() {
	for _, m := range s.maps {
		if m != nil {
			m[0].buf.Destroy()
			m[1].buf.Destroy()
		}
	}
	if s.haveSpectrum {
		for _, b := range []*Buffer{s.uh.buf, s.uw.buf} {
			b.Destroy()
		}
	}
}

// factors returns L and R of map k, uploading them on first use.
func (s *separable) factors(d *Device, k operator.Kind) (l, r matrix, err error) {
	if m := s.maps[k]; m != nil {
		return m[0], m[1], nil
	}
	lh, rw := s.op.Factors(k)
	if l, err = newMatrix(d, lh); err != nil {
		return
	}
	if r, err = newMatrix(d, rw); err != nil {
		l.buf.Destroy()
		return
	}
	s.maps[k] = &[2]matrix{l, r}
	return l, r, nil
}

// apply records map k as the two passes of sandwich.
func (s *separable) apply(b *Backend, k operator.Kind, dst, src *Buffer) error {
	l, r, err := s.factors(b.d, k)
	if err != nil {
		return err
	}
	return b.sandwich(dst, src, s.c, l, r)
}

// spectrum uploads U_h and U_w on first use.
func (s *separable) spectrum(d *Device) error {
	if s.haveSpectrum {
		return nil
	}
	uh, _, uw, _ := s.op.Spectrum()
	var err error
	if s.uh, err = newMatrix(d, uh); err != nil {
		return err
	}
	if s.uw, err = newMatrix(d, uw); err != nil {
		s.uh.buf.Destroy()
		return err
	}
	s.full = s.uh.rows == s.uh.cols && s.uw.rows == s.uw.cols
	s.haveSpectrum = true
	return nil
}

// gain records, per channel (see operator's Spectrum),
//
//	Y ↦ U_h[G ⊙ (U_hᵀ Y U_w)]U_wᵀ + g₀·(Y − U_h U_hᵀ Y U_w U_wᵀ),
//
// G_ij = g(s_h,i²·s_w,j²) (operator's GainTable, uploaded as float32),
// g₀ = g(0), the last term only where some U is not square and g₀ ≠ 0.
func (s *separable) gain(b *Backend, dst, src *Buffer, g func(s2 float64) float64) error {
	d := b.d
	if err := s.spectrum(d); err != nil {
		return err
	}
	g0 := g(0)
	kh, kw := s.uh.cols, s.uw.cols
	table, err := b.scratch(slotGain, kh*kw)
	if err != nil {
		return err
	}
	// Write submits the work recorded so far, so an earlier gain still
	// reads its own table.
	if err := table.Write(s.op.GainTable(g)); err != nil {
		return err
	}
	z, err := b.scratch(slotSpectral, s.c*kh*kw)
	if err != nil {
		return err
	}
	if err := b.sandwich(z, src, s.c, s.uh.t(), s.uw.t()); err != nil {
		return err
	}
	perp := g0 != 0 && !s.full
	var back *Buffer
	if perp {
		if back, err = b.scratch(slotBack, dst.n); err != nil {
			return err
		}
		if err := b.sandwich(back, z, s.c, s.uh, s.uw); err != nil {
			return err
		}
	}
	grid, err := d.grid(z.n, gainFwd.wg)
	if err != nil {
		return err
	}
	p := separableParams{N: uint32(s.c * kh * kw), Rows: uint32(kh), Cols: uint32(kw)}
	if err := dispatch(d, gainFwd, grid, &p, z, table, table); err != nil {
		return err
	}
	if err := b.sandwich(dst, z, s.c, s.uh, s.uw); err != nil {
		return err
	}
	if !perp {
		return nil
	}
	return b.combine(dst, sampler.Term{C: 1, V: dst}, sampler.Term{C: g0, V: src}, sampler.Term{C: -g0, V: back})
}
