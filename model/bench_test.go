package model

import "testing"

// benchConfigs are the networks the benchmarks time: NETWORK.md's example
// config, and the shipped photo model's (local, no attention), whose
// tiles the whole-photo paths run.
var benchConfigs = []struct {
	name string
	cfg  func() Config
}{
	{"example", exampleConfig},
	{"photo64", func() Config {
		return Config{
			Resolution: 64, InChannels: 3, Channels: 32, Mult: []int{1, 2, 2, 2}, ResBlocks: 1,
			Groups: 8, Heads: 4, TimeScale: 1000,
		}
	}},
}

// benchRunner returns a Runner of cfg (random weights) with an image and a
// direction.
func benchRunner(b *testing.B, cfg Config) (r *Runner, x, v []float64) {
	b.Helper()
	m, err := NewRandom(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	r = m.NewRunner()
	rng := newRNG()
	return r, randImage(rng, r.Dim()), randNormal(rng, r.Dim())
}

// BenchmarkEps times one forward pass.
func BenchmarkEps(b *testing.B) {
	for _, c := range benchConfigs {
		b.Run(c.name, func(b *testing.B) {
			r, x, _ := benchRunner(b, c.cfg())
			eps := make([]float64, r.Dim())
			b.ReportAllocs()
			for b.Loop() {
				r.Eps(eps, x, 0.5)
			}
		})
	}
}

// BenchmarkEpsVJP times a forward pass and its VJP, the cost of one
// gradient-guided sampler step on one tile.
func BenchmarkEpsVJP(b *testing.B) {
	for _, c := range benchConfigs {
		b.Run(c.name, func(b *testing.B) {
			r, x, v := benchRunner(b, c.cfg())
			eps, g := make([]float64, r.Dim()), make([]float64, r.Dim())
			b.ReportAllocs()
			for b.Loop() {
				r.Eps(eps, x, 0.5)
				r.VJP(g, v)
			}
		})
	}
}
