package sampler_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"conjure/cpu"
	"conjure/operator"
	. "conjure/sampler"
)

// wavy is the network ε(x, τ) = τ·sin(x) + 0.3·x, elementwise, which
// records each Eps call's x, τ and ε.
type wavy struct {
	dim   int
	calls []epsCall
}

type epsCall struct {
	x, eps []float64
	tau    float64
}

func (n *wavy) Dim() int { return n.dim }

func (n *wavy) Eps(dst, x []float64, tau float64) {
	for i, v := range x {
		dst[i] = tau*math.Sin(v) + 0.3*v
	}
	n.calls = append(n.calls, epsCall{append([]float64(nil), x...), append([]float64(nil), dst...), tau})
}

func (n *wavy) VJP(dst, v []float64) {
	c := n.calls[len(n.calls)-1]
	for i := range v {
		dst[i] = v[i] * (c.tau*math.Cos(c.x[i]) + 0.3)
	}
}

// TestStepX0 checks the x̂₀ every sampler reports after each step against
// Tweedie's formula (x − σ ε)/μ at the step's first network evaluation,
// recomputed in float64 from what the network was given.
func TestStepX0(t *testing.T) {
	r := rand.New(rand.NewPCG(rand.Uint64(), 3))
	op, err := operator.NewIdentity(3, 4, 5)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float64, op.In())
	for i := range y {
		y[i] = r.NormFloat64()
	}
	z := Noise(op.In(), r.Uint64())
	for _, m := range Methods {
		for _, sigmaY := range []float64{0, 0.05} {
			net := &wavy{dim: op.In()}
			b := cpu.New(net)
			p, err := NewProblem(b, op, y, sigmaY)
			if err != nil {
				t.Fatal(err)
			}
			o := DefaultOptions(m)
			o.Steps = 4
			steps := 0
			cb := func(s Step) {
				steps++
				var call *epsCall
				for k := range net.calls {
					if c := &net.calls[k]; c.tau == s.From {
						call = c
					}
				}
				if call == nil || s.X0 == nil {
					t.Fatalf("%s σ_y %v step %d: no network call at τ = %v or no x̂₀", m, sigmaY, s.I, s.From)
				}
				got := make([]float64, op.In())
				b.Read(got, s.X0)
				mu, sg := Mu(s.From), Sigma(s.From)
				for i := range got {
					want := (call.x[i] - sg*call.eps[i]) / mu
					if math.Abs(got[i]-want) > 1e-12*(1+math.Abs(want)) {
						t.Fatalf("%s σ_y %v step %d: x̂₀[%d] = %v, want %v", m, sigmaY, s.I, i, got[i], want)
					}
				}
			}
			if _, err := Run(b, p, o, Start{}, z, cb); err != nil {
				t.Fatalf("%s: %v", m, err)
			}
			if steps != o.Steps {
				t.Errorf("%s σ_y %v: %d steps reported, want %d", m, sigmaY, steps, o.Steps)
			}
		}
	}
}
