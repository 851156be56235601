package restore

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func randPlanes(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	return x
}

// CheckSize names the limit in its message and refuses every side below
// MinSide; the largest accepted sizes pass.
func TestCheckSize(t *testing.T) {
	for _, c := range []struct {
		t    Task
		w, h int
		want string // "" = accepted
	}{
		{SR4, 512, 512, ""}, {SR4, 513, 100, "2048×2048"}, {SR2, 1024, 1024, ""}, {SR2, 1025, 16, "at most 1024×1024"},
		{Deblur, 2048, 2048, ""}, {Denoise, 2049, 20, "2048×2048"}, {Inpaint, 4096, 4096, ""}, {Inpaint, 4097, 20, "4096×4096"},
		{Gray, 4096, 16, ""}, {Gray, 20, 4097, "4096×4096"}, {SR4, 15, 100, "16×16"}, {Inpaint, 100, 15, "16×16"},
	} {
		err := CheckSize(c.t, c.w, c.h)
		var se *SizeError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %d×%d: %v", c.t, c.w, c.h, err)
		case c.want != "" && (!errors.As(err, &se) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s %d×%d: %v, want a SizeError naming %s", c.t, c.w, c.h, err, c.want)
		}
	}
}

// Super-resolution, deblurring and denoising restore the whole image at the
// output size and return the solution as it is.
func TestWholeProblems(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	in := randPlanes(rng, Channels*19*23)
	for _, c := range []struct {
		t          Task
		h, w       int
		sigma, out float64
	}{{SR4, 76, 92, 0, 0}, {SR2, 38, 46, 0, 0}, {SR4Box, 76, 92, 0, 0}, {Deblur, 19, 23, 0, 0}, {Denoise, 19, 23, 0, DenoiseSigma}, {Denoise, 19, 23, 0.2, 0.2}} {
		p, err := Photo{Task: c.t, Input: in, H: 19, W: 23, SigmaY: c.sigma}.Problem()
		if err != nil {
			t.Fatal(err)
		}
		if p.H != c.h || p.W != c.w || p.OutH != c.h || p.OutW != c.w || p.Op.In() != Channels*c.h*c.w || p.Op.Out() != len(in) || p.SigmaY != c.out {
			t.Errorf("%s: problem %d×%d → %d×%d, op %d→%d, σ %g", c.t, p.W, p.H, p.OutW, p.OutH, p.Op.In(), p.Op.Out(), p.SigmaY)
		}
		x := randPlanes(rng, p.Op.In())
		if got := p.Finish(x); &got[0] != &x[0] {
			t.Errorf("%s: Finish changed the solution", c.t)
		}
	}
}

// Colourisation: the output's channel mean is the input's luminance at
// every pixel, whatever colours the sampler returns (even out of range),
// and a large input is worked at the working size.
func TestColourise(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	h, w := 90, 130
	in := randPlanes(rng, Channels*h*w)
	p, err := Photo{Task: Gray, Input: in, H: h, W: w, Work: 40}.Problem()
	if err != nil {
		t.Fatal(err)
	}
	if p.H != 28 || p.W != 40 || p.OutH != h || p.OutW != w {
		t.Fatalf("working size %d×%d, output %d×%d", p.W, p.H, p.OutW, p.OutH)
	}
	x := randPlanes(rng, p.Op.In())
	for i := range x {
		x[i] *= 3 // far out of range: the chroma must be scaled back
	}
	out := p.Finish(x)
	lum := channelMean(in, h, w)
	n := h * w
	for i := range n {
		var m float64
		for c := range Channels {
			v := out[c*n+i]
			if v < -1-1e-12 || v > 1+1e-12 {
				t.Fatalf("pixel %d channel %d = %g, outside [−1, 1]", i, c, v)
			}
			m += v / Channels
		}
		if math.Abs(m-lum[i]) > 1e-12 {
			t.Fatalf("pixel %d: luminance %.15g, input's %.15g", i, m, lum[i])
		}
	}
}

// Inpainting: the window holds the holes with context, a large window is
// restored at the working size with no damaged value in y, and every kept
// pixel of the output is the input's exactly.
func TestInpaintWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	h, w := 300, 400
	in := randPlanes(rng, Channels*h*w)
	keep := make([]bool, h*w)
	for i := range keep {
		keep[i] = true
	}
	for i := 100; i < 180; i++ { // a diagonal scratch
		for d := range 3 {
			keep[i*w+i+50+d] = false
		}
	}
	r, ok := holeWindow(keep, h, w)
	if !ok || r.Y0 > 100-32 || r.Y1 < 180+32 || r.X0 > 150-32 || r.X1 < 232+32 || r.X0 < 0 || r.Y1 > h {
		t.Fatalf("window %+v does not hold the scratch with 32 px of context", r)
	}
	for _, work := range []int{256, 48} {
		p, err := Photo{Task: Inpaint, Input: in, H: h, W: w, Keep: keep, Work: work}.Problem()
		if err != nil {
			t.Fatal(err)
		}
		if max(p.H, p.W) > work || p.OutH != h || p.OutW != w {
			t.Fatalf("work %d: problem %d×%d, output %d×%d", work, p.W, p.H, p.OutW, p.OutH)
		}
		poisoned := append([]float64(nil), in...)
		for c := range Channels {
			for i, k := range keep {
				if !k {
					poisoned[c*h*w+i] = 1e6
				}
			}
		}
		pp, err := Photo{Task: Inpaint, Input: poisoned, H: h, W: w, Keep: keep, Work: work}.Problem()
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range pp.Y {
			if math.Abs(v) > 1 {
				t.Fatalf("work %d: y[%d] = %g: a hole's value leaked into the measurement", work, i, v)
			}
		}
		x := randPlanes(rng, p.Op.In())
		out := p.Finish(x)
		n := h * w
		filled := 0
		for c := range Channels {
			for i, k := range keep {
				if k && out[c*n+i] != in[c*n+i] {
					t.Fatalf("work %d: kept entry (%d, %d) changed", work, c, i)
				}
				if !k && out[c*n+i] != in[c*n+i] {
					filled++
				}
			}
		}
		if filled == 0 {
			t.Errorf("work %d: nothing filled", work)
		}
	}
	if _, err := (Photo{Task: Inpaint, Input: in, H: h, W: w, Keep: make([]bool, 10)}).Problem(); err == nil {
		t.Error("a mask of another size was accepted")
	}
	all := make([]bool, h*w)
	for i := range all {
		all[i] = true
	}
	if _, err := (Photo{Task: Inpaint, Input: in, H: h, W: w, Keep: all}).Problem(); err == nil || !strings.Contains(err.Error(), "nothing to fill") {
		t.Errorf("a mask without holes: %v", err)
	}
}

// Simulate degrades as each task's operator does and crops super-resolution
// truths to a multiple of the factor.
func TestSimulate(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	h, w := 70, 81
	truth := randPlanes(rng, Channels*h*w)
	ph, tr, err := Simulate(SR4, truth, h, w, nil, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ph.H != 17 || ph.W != 20 || len(tr) != Channels*68*80 || len(ph.Input) != Channels*17*20 {
		t.Fatalf("sr4: observation %d×%d, truth %d values", ph.W, ph.H, len(tr))
	}
	p, err := ph.Problem()
	if err != nil {
		t.Fatal(err)
	}
	hx := make([]float64, p.Op.Out())
	p.Op.Forward(hx, tr)
	for i := range hx {
		// y is H·truth rounded to 8 bits: within half a level of it, and a level.
		level := math.Round((ph.Input[i] + 1) * 127.5)
		if math.Abs(hx[i]-ph.Input[i]) > 1/255.0+1e-12 || math.Abs(level-(ph.Input[i]+1)*127.5) > 1e-9 {
			t.Fatalf("sr4: y[%d] = %v is not H·truth = %v rounded to 8 bits", i, ph.Input[i], hx[i])
		}
	}
	ph, _, err = Simulate(Denoise, truth, h, w, nil, 0, 1)
	if err != nil || ph.SigmaY != DenoiseSigma {
		t.Fatalf("denoise: σ %g, %v", ph.SigmaY, err)
	}
	var se float64
	for i := range truth {
		se += (ph.Input[i] - truth[i]) * (ph.Input[i] - truth[i])
	}
	if s := math.Sqrt(se / float64(len(truth))); math.Abs(s-DenoiseSigma) > 0.005 {
		t.Errorf("denoise: noise std %g, want %g", s, DenoiseSigma)
	}
}
