package sampler_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"conjure/cpu"
	"conjure/operator"
	. "conjure/sampler"
)

// TestTauAtRatio checks σ_τ/μ_τ at the returned τ against the ratio, over
// ratios from rounding noise to heavy noise.
func TestTauAtRatio(t *testing.T) {
	r := rand.New(rand.NewPCG(rand.Uint64(), 1))
	for range 50 {
		ratio := math.Exp(-7 + 7*r.Float64()) // 1e-3 … 1
		tau := TauAtRatio(ratio)
		if got := Sigma(tau) / Mu(tau); math.Abs(got-ratio) > 1e-12*ratio {
			t.Fatalf("ratio %v: σ/μ at τ = %v is %v", ratio, tau, got)
		}
	}
	if TauAtRatio(0) != 0 {
		t.Fatalf("TauAtRatio(0) = %v, want 0", TauAtRatio(0))
	}
}

// recorder is a network that records the x it is first given and predicts
// ε = 0, so a run's initial x can be read back.
type recorder struct {
	dim   int
	first []float64
}

func (r *recorder) Dim() int { return r.dim }

func (r *recorder) Eps(dst, x []float64, tau float64) {
	if r.first == nil {
		r.first = append([]float64(nil), x...)
	}
	clear(dst)
}

func (r *recorder) VJP(dst, v []float64) { clear(dst) }

// TestStart checks the initial x of Run for each kind of start against
// its formula in float64: H†y with fresh noise (the default), an estimate
// with fresh noise at another τ, and a noisy estimate at its own noise
// level, which adds no fresh noise.
func TestStart(t *testing.T) {
	r := rand.New(rand.NewPCG(rand.Uint64(), 2))
	const c, h, w = 3, 6, 5
	op, err := operator.NewIdentity(c, h, w)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float64, op.In())
	est := make([]float64, op.In())
	for i := range y {
		y[i], est[i] = r.NormFloat64(), r.NormFloat64()
	}
	z := Noise(op.In(), r.Uint64())
	o := DefaultOptions(DDIM)
	sY := 0.05
	tauStar := TauAtRatio(sY)
	for _, tc := range []struct {
		name     string
		s        Start
		tau      float64
		est      []float64
		freshStd float64
	}{
		{"default", Start{}, o.Tau0, y, Sigma(o.Tau0)},
		{"estimate", Start{Estimate: est, Tau: 0.2}, 0.2, est, Sigma(0.2)},
		{"noisy at its level", Start{Estimate: y, Tau: tauStar, Noise: sY}, tauStar, y, 0},
		{"noisy, topped up", Start{Estimate: y, Tau: 0.05, Noise: sY}, 0.05, y,
			math.Sqrt(Sigma(0.05)*Sigma(0.05) - Mu(0.05)*Mu(0.05)*sY*sY)},
		{"deterministic at the options' τ₀", Start{Estimate: est, Deterministic: true}, o.Tau0, est, 0},
		{"deterministic at its own τ", Start{Estimate: est, Tau: 0.07, Deterministic: true}, 0.07, est, 0},
		{"deterministic within its cap", Start{Estimate: est, Tau: 0.07, Deterministic: true, Noise: 0.5}, 0.07, est, 0},
		{"deterministic, topped up above its cap", Start{Estimate: est, Tau: 0.3, Deterministic: true, Noise: 0.2}, 0.3, est,
			math.Sqrt(Sigma(0.3)*Sigma(0.3) - Mu(0.3)*Mu(0.3)*0.04)},
	} {
		net := &recorder{dim: op.In()}
		b := cpu.New(net)
		p, err := NewProblem(b, op, y, sY)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Run(b, p, o, tc.s, z, nil); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i, got := range net.first {
			want := Mu(tc.tau)*tc.est[i] + tc.freshStd*z[i]
			if math.Abs(got-want) > 1e-12 {
				t.Fatalf("%s: x[%d] = %v, want %v", tc.name, i, got, want)
			}
		}
	}
	bad := []Start{
		{Tau: 1.5},
		{Estimate: est[:3]},
		{Estimate: []float64{math.NaN()}},
		{Estimate: y, Tau: tauStar / 2, Noise: sY}, // more noise than the level at τ
		{Noise: -1},
		{Estimate: est, Deterministic: true, Noise: -0.1},
	}
	for _, s := range bad {
		b := cpu.New(&recorder{dim: op.In()})
		p, _ := NewProblem(b, op, y, sY)
		if _, err := Run(b, p, o, s, z, nil); err == nil {
			t.Errorf("Run accepted the start %+v", s)
		}
	}
}
