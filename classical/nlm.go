package classical

import (
	"fmt"
	"math"
)

// The settings of non-local means that Buades, Coll & Morel recommend for
// colour images with noise up to 25/255 (IPOL 2011, "Non-Local Means
// Denoising", table 1): 3×3 patches, a 21×21 search window, filtering
// parameter h = 0.55σ.
const (
	NLMPatchRadius  = 1
	NLMSearchRadius = 10
	NLMFilter       = 0.55
)

// NLMeans denoises the planar c×h×w image x, degraded by white Gaussian
// noise of standard deviation sigma (same units as x), with pixelwise
// non-local means: each pixel becomes the weighted mean of the pixels q of
// its search window, with weight exp(−max(d² − 2σ², 0)/h²) where d² is the
// squared distance of the patches around p and q averaged over pixels and
// channels. Outside the image, pixels are mirrored.
func NLMeans(x []float64, c, h, w int, sigma float64) ([]float64, error) {
	if len(x) != c*h*w || c < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("classical: image has %d values, want %d×%d×%d", len(x), c, h, w)
	}
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return nil, fmt.Errorf("classical: noise level %v, need a finite value > 0", sigma)
	}
	const pr, sr = NLMPatchRadius, NLMSearchRadius
	hh := NLMFilter * sigma
	inv := 1 / (hh * hh)
	bias := 2 * sigma * sigma
	norm := 1 / float64(c*(2*pr+1)*(2*pr+1))
	// The padded image, so that every patch of every candidate is inside.
	m := pr + sr
	ph, pw := h+2*m, w+2*m
	pad := make([]float64, c*ph*pw)
	for k := range c {
		for i := range ph {
			for j := range pw {
				pad[(k*ph+i)*pw+j] = x[(k*h+mirror(i-m, h))*w+mirror(j-m, w)]
			}
		}
	}
	// For one offset o, diff holds Σ_c (x(p) − x(p+o))² over the pixels p
	// whose patches are needed (the image grown by pr), and patch its box
	// sums over the patch.
	gh, gw := h+2*pr, w+2*pr
	diff := make([]float64, gh*gw)
	rows := make([]float64, h*gw)
	num := make([]float64, c*h*w)
	den := make([]float64, h*w)
	for oy := -sr; oy <= sr; oy++ {
		for ox := -sr; ox <= sr; ox++ {
			for i := range gh {
				for j := range gw {
					var s float64
					for k := range c {
						a := pad[(k*ph+i+sr)*pw+j+sr]
						b := pad[(k*ph+i+sr+oy)*pw+j+sr+ox]
						s += (a - b) * (a - b)
					}
					diff[i*gw+j] = s
				}
			}
			for i := range h {
				for j := range gw {
					var s float64
					for d := 0; d <= 2*pr; d++ {
						s += diff[(i+d)*gw+j]
					}
					rows[i*gw+j] = s
				}
			}
			for i := range h {
				for j := range w {
					var d2 float64
					for d := 0; d <= 2*pr; d++ {
						d2 += rows[i*gw+j+d]
					}
					wt := math.Exp(-math.Max(d2*norm-bias, 0) * inv)
					den[i*w+j] += wt
					for k := range c {
						num[(k*h+i)*w+j] += wt * pad[(k*ph+i+m+oy)*pw+j+m+ox]
					}
				}
			}
		}
	}
	out := make([]float64, c*h*w)
	for k := range c {
		for p := range den {
			out[k*h*w+p] = num[k*h*w+p] / den[p]
		}
	}
	return out, nil
}

// mirror maps an index outside [0, n) back inside by reflection about the
// border pixels' outer edges (−1 ↦ 0, n ↦ n−1), repeatedly if needed.
func mirror(i, n int) int {
	if n == 1 {
		return 0
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i - 1
		}
		if i >= n {
			i = 2*n - 1 - i
		}
	}
	return i
}
