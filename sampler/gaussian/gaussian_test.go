package gaussian

import (
	"math"
	"math/rand/v2"
	"testing"

	"conjure/sampler"
)

func randomPrior(t *testing.T, r *rand.Rand, d int) *Prior {
	t.Helper()
	a := make([][]float64, d)
	for i := range a {
		a[i] = make([]float64, d)
		for j := range a[i] {
			a[i][j] = r.NormFloat64()
		}
	}
	cov := make([][]float64, d)
	mean := make([]float64, d)
	for i := range cov {
		cov[i] = make([]float64, d)
		mean[i] = r.NormFloat64()
		for j := range cov[i] {
			for k := range d {
				cov[i][j] += a[i][k] * a[j][k] / float64(d)
			}
		}
	}
	p, err := New(mean, cov)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ε is affine in x, so central differences are exact up to round-off and
// ⟨v, J u⟩ from differences must equal ⟨J_εᵀ v, u⟩.
func TestVJPFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range []int{1, 3, 7} {
		p := randomPrior(t, r, d)
		x, u, v := make([]float64, d), make([]float64, d), make([]float64, d)
		for i := range x {
			x[i], u[i], v[i] = r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
		}
		for _, tau := range []float64{0.001, 0.2, 0.9} {
			const h = 1e-3
			xp, xm := make([]float64, d), make([]float64, d)
			for i := range x {
				xp[i], xm[i] = x[i]+h*u[i], x[i]-h*u[i]
			}
			ep, em, g := make([]float64, d), make([]float64, d), make([]float64, d)
			p.Eps(ep, xp, tau)
			p.Eps(em, xm, tau)
			p.Eps(make([]float64, d), x, tau)
			p.VJP(g, v)
			var lhs, rhs float64
			for i := range d {
				lhs += v[i] * (ep[i] - em[i]) / (2 * h)
				rhs += g[i] * u[i]
			}
			if math.Abs(lhs-rhs) > 1e-8*math.Max(1, math.Abs(lhs)) {
				t.Errorf("d=%d τ=%v: ⟨v, Ju⟩ = %.12g, ⟨Jᵀv, u⟩ = %.12g", d, tau, lhs, rhs)
			}
		}
	}
}

// Tweedie's x̂₀ = (x − σε)/μ of a 1-D prior N(m, s²) is the textbook
// posterior mean m + μs²(x − μm)/(μ²s² + σ²).
func TestScalarPosteriorMean(t *testing.T) {
	p, err := New([]float64{0.3}, [][]float64{{0.49}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tau := range []float64{0.05, 0.5} {
		x := []float64{-0.8}
		eps := make([]float64, 1)
		p.Eps(eps, x, tau)
		mu, s := sampler.Mu(tau), sampler.Sigma(tau)
		want := 0.3 + mu*0.49*(x[0]-mu*0.3)/(mu*mu*0.49+s*s)
		if got := (x[0] - s*eps[0]) / mu; math.Abs(got-want) > 1e-14 {
			t.Errorf("τ=%v: x̂₀ = %.15g, want %.15g", tau, got, want)
		}
	}
}

func TestNewRejects(t *testing.T) {
	cases := map[string]struct {
		mean []float64
		cov  [][]float64
	}{
		"empty":        {nil, nil},
		"rows":         {[]float64{0, 0}, [][]float64{{1, 0}}},
		"ragged":       {[]float64{0, 0}, [][]float64{{1, 0}, {0}}},
		"asymmetric":   {[]float64{0, 0}, [][]float64{{1, 0.5}, {0, 1}}},
		"indefinite":   {[]float64{0, 0}, [][]float64{{1, 2}, {2, 1}}},
		"NaN mean":     {[]float64{math.NaN()}, [][]float64{{1}}},
		"infinite cov": {[]float64{0}, [][]float64{{math.Inf(1)}}},
	}
	for name, c := range cases {
		if _, err := New(c.mean, c.cov); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
