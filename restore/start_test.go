package restore

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"conjure/classical"
	"conjure/cpu"
	"conjure/imaging"
	"conjure/sampler"
)

// TestStartFor checks each task's start: the harmonic fill with the kept
// pixels exact (inpainting), y itself at its own noise level with no fresh
// noise (denoising), the Wiener solution (deblurring) and the consistent
// Lanczos upscale (SR), both deterministic, H†y otherwise (colourisation).
func TestStartFor(t *testing.T) {
	seed := rand.Uint64()
	r := rand.New(rand.NewPCG(seed, 3))
	t.Logf("seed %d", seed)
	const res = 24
	truth := randPlanes(r, Channels*res*res)
	keep := make([]bool, res*res)
	for i := range keep {
		keep[i] = r.Float64() < 0.7
	}

	op, err := Operator(Inpaint, res, keep)
	if err != nil {
		t.Fatal(err)
	}
	s, err := StartFor(Inpaint, op, Measurement(op, truth), 0)
	if err != nil {
		t.Fatal(err)
	}
	fill, err := classical.Harmonic(truth, Channels, res, res, keep)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range s.Estimate {
		if keep[i%(res*res)] && v != truth[i] || math.Abs(v-fill[i]) > 1e-12 {
			t.Fatalf("inpaint start[%d] = %v, want %v (truth %v)", i, v, fill[i], truth[i])
		}
	}
	if s.Tau != 0 || s.Noise != 0 {
		t.Errorf("inpaint start at τ %v with noise %v, want the preset's τ₀ and fresh noise", s.Tau, s.Noise)
	}

	op, err = Operator(Denoise, res, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sy := range []float64{0.03 + 0.1*r.Float64(), 0.01} {
		y := Measurement(op, truth)
		s, err = StartFor(Denoise, op, y, sy)
		if err != nil {
			t.Fatal(err)
		}
		level := sampler.Sigma(s.Tau) / sampler.Mu(s.Tau)
		switch {
		case s.Noise != sy:
			t.Errorf("σ_y = %v: start says the estimate's noise is %v", sy, s.Noise)
		case s.Tau > MinStartTau && math.Abs(level-sy) > 1e-12*sy:
			t.Errorf("σ_y = %v: start at τ = %v, where σ/μ = %v", sy, s.Tau, level)
		case s.Tau == MinStartTau && level < sy:
			t.Errorf("σ_y = %v: start at the earliest τ, whose level %v is below the noise", sy, level)
		case s.Tau < MinStartTau:
			t.Errorf("σ_y = %v: start at τ = %v, before %v", sy, s.Tau, MinStartTau)
		}
		for i, v := range s.Estimate {
			if v != y[i] {
				t.Fatalf("denoise start[%d] = %v, want y = %v", i, v, y[i])
			}
		}
	}
	if s, _ := StartFor(Denoise, op, truth, 0); s.Estimate != nil || s.Tau != 0 {
		t.Errorf("noiseless denoising start %+v, want the default", s)
	}

	op, err = Operator(Deblur, res, nil)
	if err != nil {
		t.Fatal(err)
	}
	y := Measurement(op, truth)
	s, err = StartFor(Deblur, op, y, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Deterministic || s.Tau != 0 || s.Noise != 0 {
		t.Errorf("deblur start %+v, want deterministic at the preset's τ₀", s)
	}
	// The Wiener solution x satisfies (HᵀH + kI)x = Hᵀy.
	k := classical.WienerRatio(0)
	hx := make([]float64, op.Out())
	op.Forward(hx, s.Estimate)
	lhs := make([]float64, op.In())
	op.Adjoint(lhs, hx)
	rhs := make([]float64, op.In())
	op.Adjoint(rhs, y)
	for i := range lhs {
		if d := lhs[i] + k*s.Estimate[i] - rhs[i]; math.Abs(d) > 1e-9 {
			t.Fatalf("deblur start is not the Wiener solution: normal equations off by %v at %d", d, i)
		}
	}

	// Super-resolution: the Lanczos upscale of y, corrected in the row
	// space of H until it reproduces y.
	op, err = Operator(SR4, res, nil)
	if err != nil {
		t.Fatal(err)
	}
	y = Measurement(op, truth)
	s, err = StartFor(SR4, op, y, 0)
	if err != nil || !s.Deterministic || s.Tau != 0 || s.Noise != SRStartError {
		t.Fatalf("sr4 start: deterministic %v, τ %v, noise %v (%v)", s.Deterministic, s.Tau, s.Noise, err)
	}
	hx = make([]float64, op.Out())
	op.Forward(hx, s.Estimate)
	for i := range hx {
		if d := hx[i] - y[i]; math.Abs(d) > 1e-9 {
			t.Fatalf("sr4 start is not consistent: (Hx − y)[%d] = %v", i, d)
		}
	}
	lz := imaging.ResizeLanczos(y, Channels, res/4, res/4, res, res)
	diff := make([]float64, op.In())
	for i := range diff {
		diff[i] = s.Estimate[i] - lz[i]
	}
	pd := make([]float64, op.In())
	op.Project(pd, diff)
	for i := range diff {
		if d := pd[i] - diff[i]; math.Abs(d) > 1e-9 {
			t.Fatalf("sr4 start differs from Lanczos outside the row space of H: %v at %d", d, i)
		}
	}

	op, err = Operator(Gray, res, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := StartFor(Gray, op, Measurement(op, truth), 0); err != nil || s.Estimate != nil || s.Tau != 0 || s.Noise != 0 {
		t.Errorf("gray start %+v (%v), want the default H†y", s, err)
	}
}

// TestRunRejectsDiverged checks that a run whose values explode (ΠGDM's
// explicit Euler guidance step at a far too large w) is an error naming the
// method and settings, not an image.
func TestRunRejectsDiverged(t *testing.T) {
	r := rand.New(rand.NewPCG(rand.Uint64(), 5))
	const res = 8
	d := Channels * res * res
	prior := diagonalPrior(t, r, d)
	op, err := Operator(Denoise, res, nil)
	if err != nil {
		t.Fatal(err)
	}
	y := Measurement(op, randPlanes(r, d))
	o := sampler.DefaultOptions(sampler.PiGDM)
	o.W, o.Tau0 = 1e4, 0.7
	_, err = RunTask(cpu.New(prior), Denoise, op, y, 0.3, o, r.Uint64(), nil)
	var de *DivergedError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a DivergedError", err)
	}
	for _, want := range []string{"denoise", "pigdm", "w = 10000"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	o.W = 1
	if _, err := RunTask(cpu.New(prior), Denoise, op, y, 0.3, o, r.Uint64(), nil); err != nil {
		t.Errorf("a run at w = 1: %v", err)
	}
}
