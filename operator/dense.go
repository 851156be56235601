package operator

import "gonum.org/v1/gonum/mat"

// Dense is an arbitrary real m×d matrix H, for toy problems (ALGORITHM.md
// §6.6). H† is the Moore–Penrose pseudo-inverse from the SVD of H, singular
// values at most max(m,d)·ε·s₁ counting as zero (the usual tolerance, so a
// rank-deficient H works), and gains g(HHᵀ) use that SVD too.
//
// Dense is the separable machinery with one channel and a trivial width
// factor: Shape reports (1, d, 1), and Factors and Spectrum report H's
// matrices along the height and the 1×1 matrix [1] along the width.
type Dense struct {
	separable
}

// NewDense returns the operator of the matrix whose rows are rows (copied).
// It returns an error for an empty or ragged matrix, NaN or infinite
// entries, more than MaxSide rows or columns, a zero matrix, or entries so
// small that the pseudo-inverse overflows.
func NewDense(rows [][]float64) (*Dense, error) {
	m := len(rows)
	if m == 0 || len(rows[0]) == 0 {
		return nil, errorf("matrix is empty")
	}
	d := len(rows[0])
	if m > MaxSide || d > MaxSide {
		return nil, errorf("matrix of %d×%d exceeds %d rows or columns", m, d, MaxSide)
	}
	data := make([]float64, 0, m*d)
	for i, row := range rows {
		if len(row) != d {
			return nil, errorf("matrix is ragged: row %d has %d entries, row 0 has %d", i, len(row), d)
		}
		if !finite(row) {
			return nil, errorf("matrix row %d has NaN or infinite entries", i)
		}
		data = append(data, row...)
	}
	h, err := newSpectral(mat.NewDense(m, d, data), 0)
	if err != nil {
		return nil, err
	}
	// The width factor is the identity on a single column; its maps are all
	// [1], so one matrix serves them.
	one := mat.NewDense(1, 1, []float64{1})
	id := &spectral{a: one, pinv: one, proj: one, u: one, s: []float64{1}}
	return &Dense{separable{shape: shape{1, d, 1}, rows: h, cols: id}}, nil
}
