package classical

import (
	"errors"
	"fmt"
	"math"
)

// ErrNothingKept is returned by Harmonic for a mask that keeps no pixel:
// there is nothing to fill from.
var ErrNothingKept = errors.New("the mask keeps no pixel, so there is nothing to fill the holes from: leave part of the photo unmasked (white)")

// Harmonic returns a copy of the planar c×h×w image x whose hole pixels
// (keep false; keep has h·w entries) are replaced, channel by channel, by
// the discrete harmonic interpolation of the kept pixels: the solution of
// Laplace's equation with the 5-point stencil over the holes, kept pixels
// as Dirichlet values and the image border as a mirror (no flux). Kept
// pixels are returned exactly. It is the smoothest fill the surrounding
// pixels determine: no texture, but no stripes or colour blobs either.
func Harmonic(x []float64, c, h, w int, keep []bool) ([]float64, error) {
	if len(x) != c*h*w || len(keep) != h*w {
		return nil, fmt.Errorf("classical: image has %d values and mask %d, want %d×%d×%d and %d×%d", len(x), len(keep), c, h, w, h, w)
	}
	holes := make([]int, 0)
	index := make([]int, h*w) // unknown number of a hole pixel, −1 for a kept one
	for k, kept := range keep {
		index[k] = -1
		if !kept {
			index[k] = len(holes)
			holes = append(holes, k)
		}
	}
	out := append([]float64(nil), x...)
	if len(holes) == 0 {
		return out, nil
	}
	if len(holes) == h*w {
		return nil, ErrNothingKept
	}
	sys := laplace{w: w, h: h, index: index, holes: holes}
	for ch := range c {
		plane := out[ch*h*w : (ch+1)*h*w]
		u := sys.solve(plane)
		for n, k := range holes {
			plane[k] = u[n]
		}
	}
	return out, nil
}

// laplace is the linear system of the harmonic fill: for each hole pixel,
// deg·u − Σ(hole neighbours' u) = Σ(kept neighbours' values), with deg the
// number of its neighbours inside the image. It is symmetric positive
// definite when some pixel is kept, so conjugate gradients solve it.
type laplace struct {
	w, h  int
	index []int
	holes []int
}

// neighbours calls f with each in-image 4-neighbour of pixel k.
func (l laplace) neighbours(k int, f func(n int)) {
	i, j := k/l.w, k%l.w
	if i > 0 {
		f(k - l.w)
	}
	if i < l.h-1 {
		f(k + l.w)
	}
	if j > 0 {
		f(k - 1)
	}
	if j < l.w-1 {
		f(k + 1)
	}
}

// apply sets dst = A u.
func (l laplace) apply(dst, u []float64) {
	for n, k := range l.holes {
		s := 0.0
		l.neighbours(k, func(m int) {
			s += u[n]
			if q := l.index[m]; q >= 0 {
				s -= u[q]
			}
		})
		dst[n] = s
	}
}

// solve returns the fill of one channel's plane by conjugate gradients,
// started from the mean of each hole pixel's kept neighbours, or the kept
// mean, and run until the residual is 1e-9 of the right-hand side's (or of
// the first residual, if larger).
func (l laplace) solve(plane []float64) []float64 {
	n := len(l.holes)
	b := make([]float64, n)
	u := make([]float64, n)
	var keptSum float64
	var kept int
	for k, q := range l.index {
		if q < 0 {
			keptSum += plane[k]
			kept++
		}
	}
	for q, k := range l.holes {
		cnt := 0
		l.neighbours(k, func(m int) {
			if l.index[m] < 0 {
				b[q] += plane[m]
				cnt++
			}
		})
		u[q] = keptSum / float64(kept)
		if cnt > 0 {
			u[q] = b[q] / float64(cnt)
		}
	}
	r := make([]float64, n)
	l.apply(r, u)
	var bb, rr float64
	for q := range r {
		r[q] = b[q] - r[q]
		bb += b[q] * b[q]
		rr += r[q] * r[q]
	}
	// Relative to the larger of b and the first residual, so that a zero
	// right-hand side (a rim of zeros) stops as soon as u is near zero too.
	tol := 1e-18 * math.Max(math.Max(bb, rr), 1e-300)
	p := append([]float64(nil), r...)
	ap := make([]float64, n)
	for it := 0; it < 10*n+100 && rr > tol; it++ {
		l.apply(ap, p)
		var pap float64
		for q := range p {
			pap += p[q] * ap[q]
		}
		alpha := rr / pap
		var next float64
		for q := range u {
			u[q] += alpha * p[q]
			r[q] -= alpha * ap[q]
			next += r[q] * r[q]
		}
		beta := next / rr
		rr = next
		for q := range p {
			p[q] = r[q] + beta*p[q]
		}
	}
	return u
}
