package operator

// Inpaint is the inpainting operator of ALGORITHM.md §4.5 (`Inpainting`):
// H x is the vector of the kept image entries in planar order, H† scatters a
// measurement into a zero image, P = diag(mask), and HHᵀ = I.
type Inpaint struct {
	grouped
}

// NewInpaint returns the inpainting operator for C×H×W images that keeps the
// entries where keep is true. keep has length h·w (one mask shared by every
// channel) or c·h·w (one flag per entry, planar). It returns an error for
// non-positive or too large sizes, a mask of another length, or a mask that
// keeps nothing.
func NewInpaint(c, h, w int, keep []bool) (*Inpaint, error) {
	s, err := newShape(c, h, w)
	if err != nil {
		return nil, err
	}
	hw := h * w
	if len(keep) != hw && len(keep) != s.In() {
		return nil, errorf("inpainting mask has length %d, want h·w = %d or c·h·w = %d", len(keep), hw, s.In())
	}
	group := make([]int32, s.In())
	out := 0
	for i := range group {
		group[i] = -1
		if keep[i%len(keep)] {
			group[i] = int32(out)
			out++
		}
	}
	if out == 0 {
		return nil, errorf("inpainting mask keeps no entry")
	}
	return &Inpaint{grouped{shape: s, out: out, k: 1, group: group}}, nil
}

// Mask returns the keep-mask, one flag per image entry in planar order:
// the diagonal of P.
func (op *Inpaint) Mask() []bool {
	m := make([]bool, len(op.group))
	for i, o := range op.group {
		m[i] = o >= 0
	}
	return m
}

// NewIdentity returns H = I on C×H×W images, the operator of denoising: it
// is inpainting with nothing missing (HHᵀ = I, H† = Hᵀ = H, P = I), so every
// backend that applies Inpaint applies it.
func NewIdentity(c, h, w int) (*Inpaint, error) {
	keep := make([]bool, h*w)
	for i := range keep {
		keep[i] = true
	}
	return NewInpaint(c, h, w, keep)
}
