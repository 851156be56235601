package imaging

import "math"

// Resize resamples a planar image of c channels from h×w to oh×ow with a
// separable Catmull–Rom filter whose support widens with the downscale
// factor (antialiasing, as PIL's BICUBIC resize does). Edges are clamped.
func Resize(x []float64, c, h, w, oh, ow int) []float64 {
	return resample(x, c, h, w, weights(h, oh, catmullRom, 2), weights(w, ow, catmullRom, 2))
}

// ResizeLanczos resamples like Resize with the Lanczos-3 windowed sinc
// instead of Catmull–Rom: the sharper classical upscaler people reach for
// (PIL's LANCZOS, ImageMagick's default for enlargements).
func ResizeLanczos(x []float64, c, h, w, oh, ow int) []float64 {
	return resample(x, c, h, w, weights(h, oh, lanczos3, 3), weights(w, ow, lanczos3, 3))
}

// Shrink downscales a planar image of c channels from h×w to oh×ow (oh ≤ h,
// ow ≤ w) by area averaging: each output pixel is the mean of the input
// area it covers, partly covered pixels weighted by their share. Its
// weights are non-negative and an output pixel depends on nothing outside
// its footprint, so a mask shrunk the same way says exactly which output
// pixels touch a hole.
func Shrink(x []float64, c, h, w, oh, ow int) []float64 {
	if oh > h || ow > w || oh < 1 || ow < 1 {
		panic("imaging: Shrink can only reduce a size")
	}
	return resample(x, c, h, w, areaWeights(h, oh), areaWeights(w, ow))
}

// resample applies the 1-D filters rows (one per output row) and cols (one
// per output column) to every channel of a planar c×h×w image.
func resample(x []float64, c, h, w int, rows, cols []taps) []float64 {
	oh, ow := len(rows), len(cols)
	tmp := make([]float64, c*h*ow)
	for k := range c {
		for i := range h {
			src := x[k*h*w+i*w : k*h*w+(i+1)*w]
			for j, t := range cols {
				var s float64
				for n, wt := range t.w {
					s += wt * src[t.first+n]
				}
				tmp[k*h*ow+i*ow+j] = s
			}
		}
	}
	out := make([]float64, c*oh*ow)
	for k := range c {
		for i, t := range rows {
			for j := range ow {
				var s float64
				for n, wt := range t.w {
					s += wt * tmp[k*h*ow+(t.first+n)*ow+j]
				}
				out[k*oh*ow+i*ow+j] = s
			}
		}
	}
	return out
}

// areaWeights returns, for each of out samples, the share of each input
// sample in its footprint [i·in/out, (i+1)·in/out).
func areaWeights(in, out int) []taps {
	scale := float64(in) / float64(out)
	ts := make([]taps, out)
	for i := range ts {
		a, b := float64(i)*scale, float64(i+1)*scale
		lo, hi := int(math.Floor(a)), min(int(math.Ceil(b)), in)
		w := make([]float64, hi-lo)
		for j := lo; j < hi; j++ {
			w[j-lo] = (math.Min(b, float64(j+1)) - math.Max(a, float64(j))) / scale
		}
		ts[i] = taps{first: lo, w: w}
	}
	return ts
}

type taps struct {
	first int
	w     []float64
}

// weights returns, for each output sample, the normalised taps of kernel
// (zero beyond radius) over the input samples it covers, the kernel
// stretched by the downscale factor.
func weights(in, out int, kernel func(float64) float64, radius float64) []taps {
	scale := float64(in) / float64(out)
	support := radius * math.Max(scale, 1)
	filterScale := math.Max(scale, 1)
	ts := make([]taps, out)
	for i := range ts {
		centre := (float64(i) + 0.5) * scale
		lo := max(int(math.Floor(centre-support)), 0)
		hi := min(int(math.Ceil(centre+support)), in)
		var sum float64
		w := make([]float64, hi-lo)
		for j := lo; j < hi; j++ {
			w[j-lo] = kernel((float64(j) + 0.5 - centre) / filterScale)
			sum += w[j-lo]
		}
		for j := range w {
			w[j] /= sum
		}
		ts[i] = taps{first: lo, w: w}
	}
	return ts
}

// catmullRom is the Keys cubic with a = −0.5.
func catmullRom(t float64) float64 {
	t = math.Abs(t)
	switch {
	case t < 1:
		return 1.5*t*t*t - 2.5*t*t + 1
	case t < 2:
		return -0.5*t*t*t + 2.5*t*t - 4*t + 2
	}
	return 0
}

// lanczos3 is sinc(t)·sinc(t/3) on |t| < 3.
func lanczos3(t float64) float64 {
	t = math.Abs(t)
	switch {
	case t == 0:
		return 1
	case t < 3:
		a := math.Pi * t
		return 3 * math.Sin(a) * math.Sin(a/3) / (a * a)
	}
	return 0
}
