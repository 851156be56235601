package operator

// grouped is an operator whose every measurement is the mean of a disjoint
// group of k image entries: one entry (inpainting, k = 1), an f×f block (box
// super-resolution, k = f²) or the C channels of a pixel (colourisation,
// k = C); image entries in no group are discarded. Its rows are orthogonal
// with squared norm 1/k, so HHᵀ = I/k and H† = kHᵀ: the pseudo-inverse copies
// each measurement back onto its group, P replaces every entry by its
// group's mean (0 outside any group), and every gain g(HHᵀ) is a scalar.
// These closed forms need no SVD and make H† bit-exact.
type grouped struct {
	shape
	out   int
	k     int
	group []int32 // group[i] is the measurement image entry i feeds, or -1
}

// Out returns the number of measurements.
func (g *grouped) Out() int { return g.out }

// Groups returns, for each image entry in planar order, the index of the
// measurement it contributes to, or -1 if it is discarded. A GPU kernel can
// apply every map of the operator from this table alone.
func (g *grouped) Groups() []int32 { return append([]int32(nil), g.group...) }

// Forward sets dst (length Out) to H x, each measurement the mean of its
// group.
func (g *grouped) Forward(dst, x []float64) {
	g.sum(dst, x)
	if g.k != 1 {
		k := float64(g.k)
		for i := range dst {
			dst[i] /= k
		}
	}
}

// Adjoint sets dst (length In) to Hᵀ y: each measurement divided by the
// group size, copied onto its group; 0 elsewhere.
func (g *grouped) Adjoint(dst, y []float64) { g.spread(dst, y, 1/float64(g.k)) }

// Pinv sets dst (length In) to H† y: each measurement copied exactly onto
// its group; 0 elsewhere.
func (g *grouped) Pinv(dst, y []float64) { g.spread(dst, y, 1) }

// Project sets dst (length In) to P x: every entry replaced by the mean of
// its group, 0 outside any group.
func (g *grouped) Project(dst, x []float64) {
	checkLens(dst, g.In(), x, g.In())
	mean := make([]float64, g.out)
	g.Forward(mean, x)
	g.spread(dst, mean, 1)
}

// Gain sets dst (length Out) to g(HHᵀ) y = g(1/k)·y, since HHᵀ = I/k.
func (g *grouped) Gain(dst, y []float64, gain func(s2 float64) float64) {
	checkLens(dst, g.out, y, g.out)
	c := gain(1 / float64(g.k))
	for i, v := range y {
		dst[i] = c * v
	}
}

// sum sets dst (length Out) to the sum of each group of x.
func (g *grouped) sum(dst, x []float64) {
	checkLens(dst, g.out, x, g.In())
	clear(dst)
	for i, o := range g.group {
		if o >= 0 {
			dst[o] += x[i]
		}
	}
}

// spread sets every entry of dst (length In) to scale times the measurement
// of its group, or 0. With scale 1 the copy is exact.
func (g *grouped) spread(dst, y []float64, scale float64) {
	checkLens(dst, g.In(), y, g.out)
	for i, o := range g.group {
		if o >= 0 {
			dst[i] = scale * y[o]
		} else {
			dst[i] = 0
		}
	}
}
