package imaging

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// refLanczos is sinc(t)·sinc(t/3) on |t| < 3, sinc(t) = sin(πt)/(πt).
func refLanczos(t float64) float64 {
	if math.Abs(t) >= 3 {
		return 0
	}
	sinc := func(u float64) float64 {
		if u == 0 {
			return 1
		}
		return math.Sin(math.Pi*u) / (math.Pi * u)
	}
	return sinc(t) * sinc(t/3)
}

// axisWeights returns the out×in matrix of one axis from the definition:
// output sample i centred at (i+0.5)·in/out, input sample j at j+0.5, weight
// L((j+0.5−centre)/s) with s = max(in/out, 1), over every input sample,
// normalised to sum 1.
func axisWeights(in, out int) [][]float64 {
	scale := float64(in) / float64(out)
	s := math.Max(scale, 1)
	m := make([][]float64, out)
	for i := range m {
		centre := (float64(i) + 0.5) * scale
		m[i] = make([]float64, in)
		var sum float64
		for j := range in {
			m[i][j] = refLanczos((float64(j) + 0.5 - centre) / s)
			sum += m[i][j]
		}
		for j := range m[i] {
			m[i][j] /= sum
		}
	}
	return m
}

// bruteLanczos resizes with the 2-D weights directly: output (i, j) is
// Σ_{a,b} R[i][a]·C[j][b]·x[a][b], no separable pass.
func bruteLanczos(x []float64, c, h, w, oh, ow int) []float64 {
	rows, cols := axisWeights(h, oh), axisWeights(w, ow)
	out := make([]float64, c*oh*ow)
	for k := range c {
		for i := range oh {
			for j := range ow {
				var s float64
				for a := range h {
					for b := range w {
						s += rows[i][a] * cols[j][b] * x[(k*h+a)*w+b]
					}
				}
				out[(k*oh+i)*ow+j] = s
			}
		}
	}
	return out
}

// ResizeLanczos agrees with the 2-D definition for an upscale, a downscale
// (non-integer factors) and a mixed resize, and preserves constants.
func TestResizeLanczos(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	const c, h, w = 3, 7, 9
	x := make([]float64, c*h*w)
	for i := range x {
		x[i] = 2*r.Float64() - 1
	}
	for _, size := range [][2]int{{28, 36}, {3, 4}, {2, 5}, {12, 4}, {7, 9}, {1, 1}} {
		oh, ow := size[0], size[1]
		got := ResizeLanczos(x, c, h, w, oh, ow)
		want := bruteLanczos(x, c, h, w, oh, ow)
		if len(got) != len(want) {
			t.Fatalf("%d×%d: %d values, want %d", oh, ow, len(got), len(want))
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Fatalf("%d×%d → %d×%d: value %d = %.15g, 2-D reference %.15g", h, w, oh, ow, i, got[i], want[i])
			}
		}
	}

	// Same size is the identity: the sinc vanishes at the other samples.
	same := ResizeLanczos(x, c, h, w, h, w)
	for i := range x {
		if math.Abs(same[i]-x[i]) > 1e-12 {
			t.Fatalf("identity resize changed value %d: %v → %v", i, x[i], same[i])
		}
	}

	// Constants survive exactly, per channel.
	k := make([]float64, c*h*w)
	for i := range k {
		k[i] = x[0] + float64(i/(h*w))
	}
	for _, size := range [][2]int{{28, 36}, {3, 4}, {11, 5}} {
		out := ResizeLanczos(k, c, h, w, size[0], size[1])
		for i, v := range out {
			if want := x[0] + float64(i/(size[0]*size[1])); math.Abs(v-want) > 1e-12 {
				t.Fatalf("constant %v resized to %d×%d became %v", want, size[0], size[1], v)
			}
		}
	}
}
