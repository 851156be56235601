package operator

// Gray is colourisation (ALGORITHM.md §4.6): H maps a C-channel image to the
// channel mean of every pixel, with weights exactly 1/C. (The reference code
// uses [0.3333, 0.3334, 0.3333]; the difference is below 1e-4 and exact
// weights keep the closed forms exact.) H† copies the gray value into every
// channel, P replaces each channel by the channel mean, and every singular
// value is 1/√C.
type Gray struct {
	grouped
}

// NewGray returns colourisation for C×H×W images; measurements are H×W. It
// returns an error for c < 2 (nothing to colourise) or for non-positive or
// too large sizes.
func NewGray(c, h, w int) (*Gray, error) {
	s, err := newShape(c, h, w)
	if err != nil {
		return nil, err
	}
	if c < 2 {
		return nil, errorf("colourisation needs at least 2 channels, got c=%d", c)
	}
	hw := h * w
	group := make([]int32, s.In())
	for i := range group {
		group[i] = int32(i % hw)
	}
	return &Gray{grouped{shape: s, out: hw, k: c, group: group}}, nil
}
