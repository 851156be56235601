// Package tile runs a network trained at a fixed size on images of any size:
// ε(x) = Σₖ Cₖᵀ(wₖ ⊙ ε_net(Cₖ x)), where Cₖ cuts tile k out of the image
// and the blend weights wₖ are smooth and sum to one at every pixel, so no
// seam shows; the VJP is exactly the transpose of that map,
// Jᵀv = Σₖ Cₖᵀ J_netᵀ(wₖ ⊙ Cₖ v), so guidance stays consistent
// (ARCHITECTURE.md, "Whole photos: tiles below the Backend").
//
// It sits below the sampler's Backend: the samplers and operators see whole
// images; only the network is tiled.
package tile

import (
	"fmt"
	"math"
)

// DefaultOverlap returns the least overlap of neighbouring size×size
// tiles: a quarter of the side (16 px for 64-pixel tiles), wide enough for
// a smooth blend over the band where neighbours disagree most (each tile's
// zero padding) at 1.8× the pixels of the image.
func DefaultOverlap(size int) int { return size / 4 }

// MinSide is the smallest image side Grid accepts: below it the tile would
// be mostly reflected padding.
const MinSide = 16

// Grid is the tiling of an H×W image by Size×Size tiles: tile (i, j) reads
// image row Rows[i].Index[t] and column Cols[j].Index[s] at its pixel
// (t, s) and weighs its output there by Rows[i].Weight[t]·Cols[j].Weight[s].
type Grid struct {
	H, W, Size int
	Rows, Cols []Line
}

// Line is one tile's footprint along an axis: the image index of each of
// its Size positions and the blend weight there. Along every axis the
// weights of all Lines sum to one at every image index.
type Line struct {
	Index  []int
	Weight []float64
}

// NewGrid tiles an h×w image with size×size tiles that overlap by at least
// overlap pixels. Along a side of at least size pixels the tiles are spread
// evenly, the first at 0 and the last ending at the border (shifted inward,
// never padded). A side shorter than size (but at least MinSide) gets one
// tile holding the image centred in its reflection; the reflected positions
// have weight 0, so they feed the network context and the VJP their
// gradient, but not the output.
func NewGrid(h, w, size, overlap int) (*Grid, error) {
	switch {
	case size < MinSide:
		return nil, fmt.Errorf("tile: tile side %d is below %d", size, MinSide)
	case overlap < 0 || 2*overlap > size:
		return nil, fmt.Errorf("tile: overlap %d must be in [0, %d] for %d-pixel tiles", overlap, size/2, size)
	case h < MinSide || w < MinSide:
		return nil, fmt.Errorf("tile: image %d×%d is below the %d×%d minimum", w, h, MinSide, MinSide)
	}
	return &Grid{H: h, W: w, Size: size, Rows: lines(h, size, overlap), Cols: lines(w, size, overlap)}, nil
}

// Tiles returns the number of tiles.
func (g *Grid) Tiles() int { return len(g.Rows) * len(g.Cols) }

// lines returns the tiles' footprints along a side of n pixels.
func lines(n, size, overlap int) []Line {
	if n < size {
		off := (size - n) / 2
		l := Line{Index: make([]int, size), Weight: make([]float64, size)}
		for t := range size {
			l.Index[t] = reflect(t-off, n)
			if t >= off && t < off+n {
				l.Weight[t] = 1
			}
		}
		return []Line{l}
	}
	count := 1
	if n > size {
		count = ceilDiv(n-overlap, size-overlap)
	}
	pos := make([]int, count)
	for k := 1; k < count; k++ {
		pos[k] = int(math.Round(float64(k*(n-size)) / float64(count-1)))
	}
	// Each tile's raw weight rises as sin² across its overlap with the
	// previous tile and falls across the overlap with the next; neighbours'
	// ramps over a shared band are complementary (sin² + cos² = 1), and the
	// division by the sum below makes the partition of unity exact anyway.
	raw := make([][]float64, count)
	sum := make([]float64, n)
	for k, p := range pos {
		raw[k] = make([]float64, size)
		for t := range size {
			r := 1.0
			if k > 0 {
				r *= ramp((float64(t) + 0.5) / float64(pos[k-1]+size-p))
			}
			if k < count-1 {
				r *= ramp((float64(size-t) - 0.5) / float64(p+size-pos[k+1]))
			}
			raw[k][t] = r
			sum[p+t] += r
		}
	}
	ls := make([]Line, count)
	for k, p := range pos {
		ls[k] = Line{Index: make([]int, size), Weight: make([]float64, size)}
		for t := range size {
			ls[k].Index[t] = p + t
			ls[k].Weight[t] = raw[k][t] / sum[p+t]
		}
	}
	return ls
}

// ramp is sin²(πu/2) on [0, 1] and 1 beyond: smooth, and ramp(u) +
// ramp(1−u) = 1.
func ramp(u float64) float64 {
	if u >= 1 {
		return 1
	}
	s := math.Sin(math.Pi * u / 2)
	return s * s
}

// reflect maps an index onto [0, n) by half-sample symmetric reflection
// (j < 0 ↦ −j−1, j ≥ n ↦ 2n−1−j), repeated for indices more than one
// image away.
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

func ceilDiv(a, b int) int { return (a + b - 1) / b }
