package operator

// BoxSR is block-average super-resolution (ALGORITHM.md §4.3): H averages
// each f×f block of every channel. Its closed forms are H† = nearest
// upsampling (bit-exact), Hᵀ = nearest upsampling / f², P = upsampling of the
// block means, and HHᵀ = I/f².
type BoxSR struct {
	grouped
	f int
}

// NewBoxSR returns f× block-average super-resolution for C×H×W images;
// measurements are C×(H/f)×(W/f). It returns an error unless factor is 2, 4
// or 8 and divides both h and w, or for non-positive or too large sizes.
func NewBoxSR(c, h, w, factor int) (*BoxSR, error) {
	s, err := newSRShape("box super-resolution", c, h, w, factor, 2, 4, 8)
	if err != nil {
		return nil, err
	}
	ho, wo := h/factor, w/factor
	group := make([]int32, s.In())
	for ch := range c {
		for i := range h {
			for j := range w {
				group[(ch*h+i)*w+j] = int32((ch*ho+i/factor)*wo + j/factor)
			}
		}
	}
	return &BoxSR{grouped{shape: s, out: c * ho * wo, k: factor * factor, group: group}, factor}, nil
}

// Factor returns the downsampling factor f.
func (op *BoxSR) Factor() int { return op.f }
