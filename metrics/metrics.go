// Package metrics scores restorations against the ground truth: PSNR and
// SSIM on [0, 1] images, and measurement consistency ‖y − Hx‖/‖y‖.
//
// Images are planar vectors in [−1, 1] (see package imaging); both metrics
// clip to [−1, 1] and rescale to [0, 1] first, as the saved image would be.
package metrics

import (
	"fmt"
	"math"
)

func unit(v float64) float64 { return (math.Max(-1, math.Min(1, v)) + 1) / 2 }

// PSNR returns 10·log₁₀(1/MSE) in dB of x against ref on [0, 1]; +Inf when
// they are equal.
func PSNR(x, ref []float64) float64 {
	mustMatch(x, ref)
	var se float64
	for i := range x {
		d := unit(x[i]) - unit(ref[i])
		se += d * d
	}
	return 10 * math.Log10(float64(len(x))/se)
}

// SSIM returns the mean structural similarity (Wang et al. 2004) of x
// against ref, c channels of h×w pixels: an 11×11 Gaussian window with
// σ = 1.5, K₁ = 0.01, K₂ = 0.03, dynamic range 1, averaged over the window
// positions that fit inside the image (no padding) and over channels.
// Images smaller than the window use a window of their own size.
func SSIM(x, ref []float64, c, h, w int) float64 {
	mustMatch(x, ref)
	if len(x) != c*h*w {
		panic(fmt.Sprintf("metrics: %d values are not %d×%d×%d", len(x), c, h, w))
	}
	win := gaussianWindow(min(11, h, w), 1.5)
	n := len(win)
	const c1, c2 = 0.01 * 0.01, 0.03 * 0.03
	var total float64
	var count int
	for k := range c {
		a, b := x[k*h*w:(k+1)*h*w], ref[k*h*w:(k+1)*h*w]
		for i := 0; i+n <= h; i++ {
			for j := 0; j+n <= w; j++ {
				var ma, mb, saa, sbb, sab float64
				for u := range n {
					for v := range n {
						wt := win[u] * win[v]
						p, q := unit(a[(i+u)*w+j+v]), unit(b[(i+u)*w+j+v])
						ma += wt * p
						mb += wt * q
						saa += wt * p * p
						sbb += wt * q * q
						sab += wt * p * q
					}
				}
				va, vb, cov := saa-ma*ma, sbb-mb*mb, sab-ma*mb
				total += (2*ma*mb + c1) * (2*cov + c2) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
				count++
			}
		}
	}
	return total / float64(count)
}

// gaussianWindow returns n normalised 1-D Gaussian taps of deviation sigma.
func gaussianWindow(n int, sigma float64) []float64 {
	w := make([]float64, n)
	var s float64
	for i := range w {
		d := float64(i) - float64(n-1)/2
		w[i] = math.Exp(-d * d / (2 * sigma * sigma))
		s += w[i]
	}
	for i := range w {
		w[i] /= s
	}
	return w
}

// Consistency returns ‖y − hx‖/‖y‖, where hx = H x has been computed by the
// caller: how well a restoration explains its measurement.
func Consistency(y, hx []float64) float64 {
	mustMatch(y, hx)
	var num, den float64
	for i := range y {
		num += (y[i] - hx[i]) * (y[i] - hx[i])
		den += y[i] * y[i]
	}
	return math.Sqrt(num / den)
}

func mustMatch(a, b []float64) {
	if len(a) != len(b) || len(a) == 0 {
		panic(fmt.Sprintf("metrics: lengths %d and %d", len(a), len(b)))
	}
}

// PSNRWhere returns the PSNR of x against ref, c planar channels, over
// the pixels where sel is true (sel has one entry per pixel, shared by the
// channels): the PSNR of an inpainting's holes alone. NaN when sel selects
// nothing.
func PSNRWhere(x, ref []float64, c int, sel []bool) float64 {
	mustMatch(x, ref)
	if len(x) != c*len(sel) {
		panic(fmt.Sprintf("metrics: %d values are not %d channels of %d pixels", len(x), c, len(sel)))
	}
	var se float64
	n := 0
	for k := range c {
		for p, s := range sel {
			if s {
				d := unit(x[k*len(sel)+p]) - unit(ref[k*len(sel)+p])
				se += d * d
				n++
			}
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return 10 * math.Log10(float64(n)/se)
}
