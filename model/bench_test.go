package model

import "testing"

// benchRunner returns a Runner of NETWORK.md's example config (64×64,
// random weights) with an image and a direction.
func benchRunner(b *testing.B) (r *Runner, x, v []float64) {
	b.Helper()
	m, err := NewRandom(exampleConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	r = m.NewRunner()
	rng := newRNG()
	return r, randImage(rng, r.Dim()), randNormal(rng, r.Dim())
}

// BenchmarkEps times one forward pass of the example network.
func BenchmarkEps(b *testing.B) {
	r, x, _ := benchRunner(b)
	eps := make([]float64, r.Dim())
	b.ReportAllocs()
	for b.Loop() {
		r.Eps(eps, x, 0.5)
	}
}

// BenchmarkEpsVJP times a forward pass and its VJP, the cost of one
// gradient-guided sampler step.
func BenchmarkEpsVJP(b *testing.B) {
	r, x, v := benchRunner(b)
	eps, g := make([]float64, r.Dim()), make([]float64, r.Dim())
	b.ReportAllocs()
	for b.Loop() {
		r.Eps(eps, x, 0.5)
		r.VJP(g, v)
	}
}
