package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// tinyConfig exercises every block on an 8×8 image: three levels (so both
// stride-2 downsamples and upsamples), width changes in both directions
// (skip Conv1×1 and identity skips), attention at 4×4 on the way down and
// up with two heads, and the middle's attention at 2×2.
func tinyConfig() Config {
	return Config{
		Resolution: 8, InChannels: 3, Channels: 8, Mult: []int{1, 2, 3}, ResBlocks: 1,
		AttnResolutions: []int{4}, Groups: 4, Heads: 2, TimeScale: 1000,
	}
}

// exampleConfig is NETWORK.md's example.
func exampleConfig() Config {
	return Config{
		Resolution: 64, InChannels: 3, Channels: 64, Mult: []int{1, 2, 2, 2}, ResBlocks: 2,
		AttnResolutions: []int{16}, Groups: 32, Heads: 4, TimeScale: 1000,
	}
}

func newTiny(t testing.TB) *Model {
	t.Helper()
	m, err := NewRandom(tinyConfig(), 7)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// randImage returns a planar image in [−1, 1].
func randImage(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	return x
}

func randNormal(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// TestNetworkVJP checks ⟨v, J u⟩ = ⟨Jᵀv, u⟩ for the whole network, J u
// from finite differences of the float32 forward pass along random
// directions u (unit RMS per pixel).
//
// Step, stencil and tolerance were chosen from measurements on this tiny
// model: it is strongly nonlinear (random weights, GroupNorm over few
// values, attention), so the central difference's h² error is 2% at
// h = 1e-2 and only drops below 1e-3 where float32 rounding noise in
// ⟨v, ε⟩ (≈5e-6) takes over. The fourth-order stencil
// (−f(2h) + 8f(h) − 8f(−h) + f(−2h))/12h at h = 1e-2 brings truncation to
// ~1e-5 relative and noise to ~1.5·5e-6/h ≈ 1e-3 absolute on values of a
// few units: measured errors are ≲2e-4. Single directions can give
// ⟨v, J u⟩ near zero, so the error is taken over the vector of several
// directions, ‖p − d‖/‖d‖, against a tolerance of 1e-3: ≥5× the noise,
// while a wrong term anywhere in the VJP changes Jᵀv by O(1).
func TestNetworkVJP(t *testing.T) {
	const h, tol, dirs = 1e-2, 1e-3, 4
	m := newTiny(t)
	r := m.NewRunner()
	rng := newRNG()
	n := r.Dim()
	eps, jtv := make([]float64, n), make([]float64, n)
	xp := make([]float64, n)
	for _, tau := range []float64{0.02, 0.5, 1} {
		x, v := randImage(rng, n), randNormal(rng, n)
		r.Eps(eps, x, tau)
		r.VJP(jtv, v)
		var fd, vjp []float64
		for range dirs {
			u := randNormal(rng, n)
			f := func(s float64) float64 { // ⟨v, ε(x + s·u, τ)⟩
				for i := range xp {
					xp[i] = x[i] + s*u[i]
				}
				r.Eps(eps, xp, tau)
				return dot(v, eps)
			}
			fd = append(fd, (-f(2*h)+8*f(h)-8*f(-h)+f(-2*h))/(12*h))
			vjp = append(vjp, dot(jtv, u))
		}
		e := relErr(vjp, fd)
		t.Logf("τ = %g: ⟨Jᵀv, u⟩ = %.6g, ⟨v, Ju⟩ by differences = %.6g: relative error %.2g", tau, vjp, fd, e)
		if e > tol {
			t.Errorf("τ = %g: ⟨Jᵀv, u⟩ = %.6g, ⟨v, Ju⟩ by differences = %.6g: relative error %.3g > %g", tau, vjp, fd, e, tol)
		}
	}
}

// TestRunnerRepeatable checks that a Runner carries no state from one call
// to the next (a skip gradient accumulated twice, a stale buffer): repeated
// calls, calls after other inputs and a second Runner all agree exactly.
func TestRunnerRepeatable(t *testing.T) {
	m := newTiny(t)
	r1, r2 := m.NewRunner(), m.NewRunner()
	rng := newRNG()
	n := r1.Dim()
	x, v := randImage(rng, n), randNormal(rng, n)
	eps, jtv := make([]float64, n), make([]float64, n)
	r1.Eps(eps, x, 0.3)
	r1.VJP(jtv, v)
	eps0, jtv0 := slices.Clone(eps), slices.Clone(jtv)
	r1.VJP(jtv, v)
	if !slices.Equal(jtv, jtv0) {
		t.Error("a second VJP gives a different result")
	}
	r1.Eps(eps, randImage(rng, n), 0.9)
	r1.VJP(jtv, randNormal(rng, n))
	for _, r := range []*Runner{r1, r2} {
		r.Eps(eps, x, 0.3)
		r.VJP(jtv, v)
		if !slices.Equal(eps, eps0) || !slices.Equal(jtv, jtv0) {
			t.Error("Eps and VJP at the same x, τ and v give different results")
		}
	}
	if slices.Equal(eps, x) || dot(eps, eps) == 0 || dot(jtv, jtv) == 0 {
		t.Error("degenerate output")
	}
}

func TestRunnerPanics(t *testing.T) {
	m := newTiny(t)
	n := m.NewRunner().Dim()
	for _, c := range []struct {
		name, msg string
		f         func(r *Runner)
	}{
		{"VJP before Eps", "VJP before Eps", func(r *Runner) { r.VJP(make([]float64, n), make([]float64, n)) }},
		{"short x", "Eps: len", func(r *Runner) { r.Eps(make([]float64, n), make([]float64, n-1), 1) }},
		{"short dst", "VJP: len", func(r *Runner) {
			r.Eps(make([]float64, n), make([]float64, n), 1)
			r.VJP(make([]float64, n-1), make([]float64, n))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				p, _ := recover().(string)
				if !strings.HasPrefix(p, "model: ") || !strings.Contains(p, c.msg) {
					t.Errorf("panic %q, want one containing %q", p, c.msg)
				}
			}()
			c.f(m.NewRunner())
		})
	}
}

// TestParams checks the unrolled U-Net of NETWORK.md's example against the
// page: names, shapes, where attention and skip convs appear, and the
// parameter count ("an 8M-parameter 64×64 U-Net", ARCHITECTURE.md).
func TestParams(t *testing.T) {
	cfg := exampleConfig()
	ps := cfg.Params()
	shapes := map[string][]int{}
	for _, p := range ps {
		if _, dup := shapes[p.Name]; dup {
			t.Errorf("%s listed twice", p.Name)
		}
		shapes[p.Name] = p.Shape
	}
	for name, want := range map[string][]int{
		"time.lin1.weight":          {256, 64},
		"time.lin2.weight":          {256, 256},
		"conv_in.weight":            {64, 3, 3, 3},
		"down.0.res.0.conv1.weight": {64, 64, 3, 3},
		"down.1.res.0.skip.weight":  {128, 64, 1, 1},
		"down.1.res.0.temb.weight":  {128, 256},
		"down.2.attn.1.qkv.weight":  {384, 128, 1, 1},
		"down.2.down.weight":        {128, 128, 3, 3},
		"mid.attn.out.weight":       {128, 128, 1, 1},
		"up.3.res.0.norm1.weight":   {256},            // mid (128) + down.3.res.1 (128)
		"up.2.res.2.skip.weight":    {128, 256, 1, 1}, // up.3.up (128) + down.1.down (128)
		"up.2.attn.2.norm.weight":   {128},            // 16×16
		"up.0.res.2.conv1.weight":   {64, 128, 3, 3},  // 64 + conv_in (64)
		"up.1.up.weight":            {128, 128, 3, 3},
		"norm_out.weight":           {64},
		"conv_out.weight":           {3, 64, 3, 3},
	} {
		if got, ok := shapes[name]; !ok || !slices.Equal(got, want) {
			t.Errorf("%s: shape %v (present %v), want %v", name, got, ok, want)
		}
	}
	for _, absent := range []string{"down.0.res.0.skip.weight", "down.1.attn.0.qkv.weight", "down.3.down.weight", "up.0.up.weight", "up.3.attn.0.norm.weight"} {
		if _, ok := shapes[absent]; ok {
			t.Errorf("%s should not exist", absent)
		}
	}
	m, err := NewRandom(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := m.NumParams(); n < 7_500_000 || n > 9_500_000 {
		t.Errorf("NumParams = %d, want about 8M", n)
	}
	t.Logf("example config: %d tensors, %d parameters", len(ps), m.NumParams())
}

func TestConfigValidate(t *testing.T) {
	if c := exampleConfig(); c.Validate() != nil {
		t.Fatalf("example config: %v", c.Validate())
	}
	for _, c := range []struct {
		name string
		edit func(*Config)
	}{
		{"zero resolution", func(c *Config) { c.Resolution = 0 }},
		{"resolution not divisible", func(c *Config) { c.Resolution = 60 }},
		{"odd channels", func(c *Config) { c.Channels, c.Groups, c.Heads = 33, 1, 1 }},
		{"width not divisible by groups", func(c *Config) { c.Groups = 3 }},
		{"width not divisible by heads", func(c *Config) { c.Heads = 3 }},
		{"channels not divisible by groups", func(c *Config) { c.Channels, c.Mult = 16, []int{2, 4} }},
		{"no levels", func(c *Config) { c.Mult = nil }},
		{"zero mult", func(c *Config) { c.Mult = []int{1, 0} }},
		{"negative attention resolution", func(c *Config) { c.AttnResolutions = []int{-16} }},
		{"zero heads", func(c *Config) { c.Heads = 0 }},
		{"negative res_blocks", func(c *Config) { c.ResBlocks = -1 }},
		{"zero time_scale", func(c *Config) { c.TimeScale = 0 }},
		{"infinite time_scale", func(c *Config) { c.TimeScale = math.Inf(1) }},
		{"NaN time_scale", func(c *Config) { c.TimeScale = math.NaN() }},
		{"huge resolution", func(c *Config) { c.Resolution = 1 << 20 }},
		{"huge mult", func(c *Config) { c.Mult = []int{1, 1 << 40} }},
		{"too many levels", func(c *Config) { c.Mult = make([]int, 40) }},
	} {
		cfg := exampleConfig()
		c.edit(&cfg)
		err := cfg.Validate()
		if _, ok := err.(*ConfigError); !ok {
			t.Errorf("%s: Validate() = %v, want a *ConfigError", c.name, err)
		}
	}
}
