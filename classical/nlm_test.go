package classical_test

import (
	"math"
	"testing"

	"conjure/classical"
)

// reflect maps any index into [0, n) by the symmetric extension of period
// 2n (−1 ↦ 0, n ↦ n−1), written independently of the package's mirror.
func reflect(i, n int) int {
	i %= 2 * n
	if i < 0 {
		i += 2 * n
	}
	if i >= n {
		i = 2*n - 1 - i
	}
	return i
}

// bruteNLM is non-local means straight from its definition, on the
// mirror-extended image: for each pixel p and each offset o of the search
// window, q = p + o, the weight exp(−max(d² − 2σ², 0)/h²) with d² the mean
// over channels and patch offsets δ of (x(p+δ) − x(q+δ))², and the output
// the weighted mean of x(q).
func bruteNLM(x []float64, c, h, w int, sigma float64) []float64 {
	at := func(k, i, j int) float64 { return x[(k*h+reflect(i, h))*w+reflect(j, w)] }
	const pr, sr = classical.NLMPatchRadius, classical.NLMSearchRadius
	hf := classical.NLMFilter * sigma
	out := make([]float64, c*h*w)
	for pi := range h {
		for pj := range w {
			var den float64
			num := make([]float64, c)
			for qi := pi - sr; qi <= pi+sr; qi++ {
				for qj := pj - sr; qj <= pj+sr; qj++ {
					var d2 float64
					for k := range c {
						for di := -pr; di <= pr; di++ {
							for dj := -pr; dj <= pr; dj++ {
								e := at(k, pi+di, pj+dj) - at(k, qi+di, qj+dj)
								d2 += e * e
							}
						}
					}
					d2 /= float64(c * (2*pr + 1) * (2*pr + 1))
					wt := math.Exp(-math.Max(d2-2*sigma*sigma, 0) / (hf * hf))
					den += wt
					for k := range c {
						num[k] += wt * at(k, qi, qj)
					}
				}
			}
			for k := range c {
				out[(k*h+pi)*w+pj] = num[k] / den
			}
		}
	}
	return out
}

// NLMeans agrees with the brute-force definition, on images small enough
// that the search window reflects off both borders (several times for the
// thin ones).
func TestNLMeansMatchesBruteForce(t *testing.T) {
	r := newRand(t)
	for _, s := range [][3]int{{3, 13, 11}, {1, 4, 7}, {2, 1, 5}, {1, 1, 1}} {
		c, h, w := s[0], s[1], s[2]
		x := randImage(r, c*h*w)
		// A σ comparable with the patch distances of uniform noise, so that
		// the weights are spread over (0, 1] rather than all 0 or 1.
		for _, sigma := range []float64{0.3, 0.08} {
			got, err := classical.NLMeans(x, c, h, w, sigma)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteNLM(x, c, h, w, sigma)
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-10 {
					t.Fatalf("%d×%d×%d, σ=%g: value %d = %.15g, brute force %.15g", c, h, w, sigma, i, got[i], want[i])
				}
			}
		}
	}
}

// A constant image is a fixed point: every weighted mean of equal values.
func TestNLMeansConstant(t *testing.T) {
	r := newRand(t)
	const c, h, w = 2, 9, 12
	for k := range c {
		v := 2*r.Float64() - 1
		x := make([]float64, c*h*w)
		for i := range x {
			x[i] = v + float64(i/(h*w)) // a different constant per channel
		}
		out, err := classical.NLMeans(x, c, h, w, 0.05)
		if err != nil {
			t.Fatal(err)
		}
		for i := range out {
			if math.Abs(out[i]-x[i]) > 1e-12 {
				t.Fatalf("draw %d: constant %v became %v at %d", k, x[i], out[i], i)
			}
		}
	}
}

// On a smooth image with Gaussian noise of σ = 0.05, the denoised image is
// much closer to the clean one than the noisy input. The image is one
// gentle wave shared by the channels (colour = per-channel gain and
// offset), so every patch has many look-alikes along its level line.
func TestNLMeansDenoises(t *testing.T) {
	r := newRand(t)
	const c, h, w, sigma = 3, 32, 32, 0.05
	fx, fy, ph := r.Float64(), r.Float64(), 2*math.Pi*r.Float64()
	clean := make([]float64, c*h*w)
	for k := range c {
		gain, offset := 0.3+0.4*r.Float64(), 0.4*r.Float64()-0.2
		for i := range h {
			for j := range w {
				u, v := float64(i)/h, float64(j)/w
				clean[(k*h+i)*w+j] = offset + gain*math.Sin(math.Pi*(fx*u+fy*v)+ph)
			}
		}
	}
	noisy := make([]float64, len(clean))
	for i := range clean {
		noisy[i] = clean[i] + sigma*r.NormFloat64()
	}
	out, err := classical.NLMeans(noisy, c, h, w, sigma)
	if err != nil {
		t.Fatal(err)
	}
	mse := func(a []float64) float64 {
		var s float64
		for i := range a {
			s += (a[i] - clean[i]) * (a[i] - clean[i])
		}
		return s / float64(len(a))
	}
	before, after := mse(noisy), mse(out)
	t.Logf("MSE noisy %.3g, denoised %.3g", before, after)
	if after > 0.25*before {
		t.Errorf("MSE %.3g after denoising, %.3g before: want at most a quarter", after, before)
	}
}

func TestNLMeansRejects(t *testing.T) {
	r := newRand(t)
	x := randImage(r, 2*4*5)
	for _, s := range []float64{0, -0.1, math.NaN(), math.Inf(1)} {
		if _, err := classical.NLMeans(x, 2, 4, 5, s); err == nil {
			t.Errorf("sigma = %v accepted", s)
		}
	}
	if _, err := classical.NLMeans(x[:len(x)-1], 2, 4, 5, 0.1); err == nil {
		t.Error("short image accepted")
	}
	if _, err := classical.NLMeans(x, 2, 5, 5, 0.1); err == nil {
		t.Error("wrong shape accepted")
	}
	if _, err := classical.NLMeans(nil, 0, 4, 5, 0.1); err == nil {
		t.Error("zero channels accepted")
	}
}
