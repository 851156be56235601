package operator

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// DefaultBlurThreshold is the truncation threshold recommended for NewBlur:
// the one of the reference code (ALGORITHM.md §4.4). 1-D gains below it are
// treated as lost, which bounds the 2-D condition number of H by (s₁/3e-2)²
// (about 1100 when s₁ ≈ 1, as for a normalised non-negative kernel).
const DefaultBlurThreshold = 3e-2

// Blur is deblurring with a true separable convolution (ALGORITHM.md §I.3):
// the same odd, centred kernel along rows and columns with reflect padding,
// so every row of the 1-D matrix B (n×n) sums to the kernel's sum (1 for
// GaussianKernel and UniformKernel). This is not the scrambled operator of
// the reference code (ALGORITHM.md §4.4); say so when comparing with
// published numbers.
//
// H†, P and every gain g(HHᵀ) come from the SVDs of the 1-D matrices, with
// 1-D singular values below the threshold treated as 0. To keep the operator
// laws exact, H itself is the truncated operator U diag(s) Vᵀ: with threshold
// 0 it is the exact convolution (up to components at round-off level); with a
// threshold it drops exactly the components whose 1-D gain is below it.
type Blur struct {
	separable
	kernel []float64
}

// NewBlur returns the blur of C×H×W images by kernel along both axes, as a
// convolution: output pixel i is Σ_t kernel[t]·x[i + r − t] with r =
// len(kernel)/2 (for a symmetric kernel, the same as correlation), taps
// outside the image reflected (j < 0 ↦ −j−1, j ≥ n ↦ 2n−1−j). threshold is
// absolute; DefaultBlurThreshold is recommended. It returns an error for an
// empty or even-length kernel, a kernel longer than h or w or with NaN or
// infinite taps, a negative or NaN threshold, a threshold above every 1-D
// singular value, non-positive or too large sizes, or sides above MaxSide.
func NewBlur(c, h, w int, kernel []float64, threshold float64) (*Blur, error) {
	s, err := newShape(c, h, w)
	if err != nil {
		return nil, err
	}
	switch n := len(kernel); {
	case n == 0:
		return nil, errorf("blur kernel is empty")
	case n%2 == 0:
		return nil, errorf("blur kernel has even length %d; it must be odd to be centred", n)
	case n > h || n > w:
		return nil, errorf("blur kernel of length %d is longer than the image side (h=%d, w=%d)", n, h, w)
	case !finite(kernel):
		return nil, errorf("blur kernel has NaN or infinite taps")
	case !(threshold >= 0):
		return nil, errorf("blur threshold %g must be ≥ 0", threshold)
	}
	flipped := make([]float64, len(kernel))
	for t, k := range kernel {
		flipped[len(kernel)-1-t] = k
	}
	r := len(kernel) / 2
	sep, err := newSeparable(s, threshold, func(n int) *mat.Dense {
		return tapMatrix(n, n, 1, -r, flipped)
	})
	if err != nil {
		return nil, err
	}
	return &Blur{sep, append([]float64(nil), kernel...)}, nil
}

// Kernel returns a copy of the 1-D kernel.
func (op *Blur) Kernel() []float64 { return append([]float64(nil), op.kernel...) }

// GaussianKernel returns the 2·radius+1 taps exp(−m²/(2σ²)), m = −radius …
// radius, normalised to sum 1. It returns an error for sigma ≤ 0, NaN or
// infinite, or radius < 0 or longer than any image NewBlur accepts.
func GaussianKernel(sigma float64, radius int) ([]float64, error) {
	if !(sigma > 0) || math.IsInf(sigma, 1) {
		return nil, errorf("Gaussian sigma %g must be positive and finite", sigma)
	}
	if radius < 0 || radius > MaxSide/2 {
		return nil, errorf("Gaussian radius %d must be in [0, %d]", radius, MaxSide/2)
	}
	k := make([]float64, 2*radius+1)
	for i := range k {
		// m/σ rather than m²/σ²: no 0/0 at the centre when σ² underflows.
		u := float64(i-radius) / sigma
		k[i] = math.Exp(-u * u / 2)
	}
	normalise(k)
	return k, nil
}

// UniformKernel returns size taps of 1/size (a box blur). It returns an
// error unless size is odd, positive and at most MaxSide.
func UniformKernel(size int) ([]float64, error) {
	if size <= 0 || size%2 == 0 || size > MaxSide {
		return nil, errorf("uniform kernel size %d must be odd and in [1, %d]", size, MaxSide)
	}
	k := make([]float64, size)
	for i := range k {
		k[i] = 1 / float64(size)
	}
	return k, nil
}
