//go:build js

package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExp checks exp against math.Exp on fresh random arguments over the
// range the sigmoid meets and beyond, and at the edges of its cases.
func TestExp(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(rand.Int64()), 11))
	for range 100000 {
		x := (rng.Float64()*2 - 1) * 700
		if rng.IntN(2) == 0 {
			x /= 100 // most activations are small
		}
		if got, want := exp(x), math.Exp(x); math.Abs(got-want) > 2e-15*want {
			t.Fatalf("exp(%v) = %v, math.Exp %v: relative error %g", x, got, want, math.Abs(got-want)/want)
		}
	}
	for _, c := range []struct{ x, want float64 }{
		{0, 1}, {1, math.E}, {709, math.Exp(709)}, {-708, math.Exp(-708)},
		{710, math.Inf(1)}, {-709, 0}, {math.Inf(1), math.Inf(1)}, {math.Inf(-1), 0},
	} {
		if got := exp(c.x); math.Abs(got-c.want) > 2e-15*c.want && got != c.want {
			t.Errorf("exp(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if got := exp(math.NaN()); !math.IsNaN(got) {
		t.Errorf("exp(NaN) = %v", got)
	}
}
