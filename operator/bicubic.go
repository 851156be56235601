package operator

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// BicubicSR is antialiased bicubic super-resolution (ALGORITHM.md §4.2,
// generalised to ×2 and to H ≠ W): MATLAB-style imresize with the Keys cubic
// (a = −0.5) stretched by the factor f, reflect padding, applied separably,
// Y_c = A_h X_c A_wᵀ. The 1-D matrix A (n/f × n) has row q centred between
// pixels f·q + f/2 − 1 and f·q + f/2, with 4f taps. H†, P and the noisy
// inverse come from the thin SVDs of A_h and A_w (see Factors and Spectrum).
type BicubicSR struct {
	separable
	f int
}

// NewBicubicSR returns f× bicubic super-resolution for C×H×W images;
// measurements are C×(H/f)×(W/f). It returns an error unless factor is 2 or
// 4 and divides both h and w, for non-positive or too large sizes, or for
// sides above MaxSide.
func NewBicubicSR(c, h, w, factor int) (*BicubicSR, error) {
	s, err := newSRShape("bicubic super-resolution", c, h, w, factor, 2, 4)
	if err != nil {
		return nil, err
	}
	kernel := bicubicKernel(factor)
	sep, err := newSeparable(s, 0, func(n int) *mat.Dense {
		// Row q's taps start 2f before its centre pixel f·q + f/2.
		return tapMatrix(n/factor, n, factor, factor/2-2*factor, kernel)
	})
	if err != nil {
		return nil, err
	}
	return &BicubicSR{sep, factor}, nil
}

// Factor returns the downsampling factor f.
func (op *BicubicSR) Factor() int { return op.f }

// bicubicKernel returns the 4f taps of the Keys cubic stretched by f,
// κ_k = cubic((k − (4f−1)/2)/f), normalised to sum 1.
func bicubicKernel(f int) []float64 {
	k := make([]float64, 4*f)
	for i := range k {
		k[i] = keys((float64(i) - float64(4*f-1)/2) / float64(f))
	}
	normalise(k)
	return k
}

// keys is the Keys cubic convolution kernel with a = −0.5 (MATLAB's and
// PyTorch's bicubic).
func keys(x float64) float64 {
	const a = -0.5
	x = math.Abs(x)
	switch {
	case x <= 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return ((a*x-5*a)*x+8*a)*x - 4*a
	}
	return 0
}
