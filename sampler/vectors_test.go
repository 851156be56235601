package sampler_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"conjure/operator"
	"conjure/sampler"
	"conjure/sampler/gaussian"
	"conjure/toy"
)

// toyCase is a Gaussian problem of ALGORITHM.md §6.6.
type toyCase struct {
	h        [][]float64
	mean     []float64
	cov      [][]float64
	y, z     []float64
	xInit    []float64
	odeLimit map[float64][]float64 // by w
}

var caseTA = toyCase{
	h:     [][]float64{{1, 0, 0}},
	mean:  []float64{0.5, -0.3, 0.2},
	cov:   [][]float64{{0.25, 0, 0}, {0, 1, 0}, {0, 0, 0.04}},
	y:     []float64{0.9},
	z:     []float64{0.3, -1.2, 0.7},
	xInit: []float64{0.66705262, -1.0763016, 0.6278426},
	odeLimit: map[float64][]float64{
		15: {0.94527349, -1.24362603, 0.31984561},
	},
}

var caseTB = toyCase{
	h:     [][]float64{{1, 1, 0, 0}, {0, 1, -1, 0.5}},
	mean:  []float64{0.1, -0.2, 0.3, 0},
	cov:   [][]float64{{1, .3, 0, 0}, {.3, .8, .1, 0}, {0, .1, .5, .2}, {0, 0, .2, 1.2}},
	y:     []float64{0.7, -0.4},
	z:     []float64{0.5, -0.5, 1.0, -1.5},
	xInit: []float64{0.6979844, -0.38844656, 1.08643096, -1.44013348},
	odeLimit: map[float64][]float64{
		0:  {0.69384211, -0.31655353, 0.8349799, -1.44371026},
		2:  {0.69507354, -0.14529313, 0.68428167, -1.33272526},
		15: {0.54145282, 0.19252722, 0.28169705, -0.98375706},
	},
}

func (c toyCase) problem(method sampler.Method, lambda, w float64, n int) *toy.Problem {
	return &toy.Problem{Method: string(method), H: c.h, Mean: c.mean, Cov: c.cov, Y: c.y, Z: c.z,
		Lambda: &lambda, W: &w, Steps: &n}
}

func solve(t *testing.T, p *toy.Problem) []float64 {
	t.Helper()
	x, err := toy.Solve(p)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func maxDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// ALGORITHM.md §6.6, printed to 8 decimals: 1e-7 leaves room for rounding.
func TestVectorsTA(t *testing.T) {
	cases := []struct {
		lambda, w float64
		want      []float64
	}{
		{0, 15, []float64{0.86450385, -1.13292413, 0.27153552}},
		{0, 0, []float64{0.6931757, -1.13292413, 0.27153552}},
		{0.5, 15, []float64{0.88560567, -1.10944533, 0.26494807}},
	}
	for _, c := range cases {
		got := solve(t, caseTA.problem(sampler.CPiGDM, c.lambda, c.w, 5))
		if d := maxDiff(got, c.want); d > 1e-7 {
			t.Errorf("T-A λ=%v w=%v: x_N = %v, want %v (max diff %.2g)", c.lambda, c.w, got, c.want, d)
		}
	}
}

func TestVectorsTB(t *testing.T) {
	want := map[[2]float64][3][]float64{
		{0, 0}:    {{0.61848648, -0.28392909, 0.72911717, -1.27652242}, {0.65509031, -0.29949612, 0.77994554, -1.35796666}, {0.67415169, -0.30780153, 0.80683613, -1.40021236}},
		{0, 2}:    {{0.64249726, -0.13562775, 0.61749239, -1.19349745}, {0.66937217, -0.14142601, 0.65193458, -1.26274899}, {0.68239716, -0.14360926, 0.66838621, -1.29761673}},
		{0, 15}:   {{0.57542729, 0.11321187, 0.36944109, -0.93466289}, {0.56653016, 0.14614354, 0.3421318, -0.96155992}, {0.55597717, 0.1680765, 0.31611104, -0.97249531}},
		{0.3, 0}:  {{0.60995658, -0.28016175, 0.71715642, -1.25779877}, {0.65115391, -0.29772335, 0.77435918, -1.34935648}, {0.67226024, -0.3069409, 0.80413473, -1.39608301}},
		{0.3, 2}:  {{0.64788142, -0.13658208, 0.62267429, -1.18492836}, {0.6721639, -0.141922, 0.65465957, -1.25902341}, {0.68382173, -0.14386267, 0.66978688, -1.2958877}},
		{0.3, 15}: {{0.5870229, 0.11051842, 0.38416772, -0.92873234}, {0.57316547, 0.14413189, 0.35172409, -0.95949359}, {0.55953276, 0.16682734, 0.32176982, -0.97161396}},
	}
	for k, rows := range want {
		for j, n := range []int{5, 10, 20} {
			got := solve(t, caseTB.problem(sampler.CPiGDM, k[0], k[1], n))
			if d := maxDiff(got, rows[j]); d > 1e-7 {
				t.Errorf("T-B λ=%v w=%v N=%d: x_N = %v, want %v (max diff %.2g)", k[0], k[1], n, got, rows[j], d)
			}
		}
	}
}

func TestInitialisation(t *testing.T) {
	for name, c := range map[string]toyCase{"T-A": caseTA, "T-B": caseTB} {
		op, err := operator.NewDense(c.h)
		if err != nil {
			t.Fatal(err)
		}
		hy := make([]float64, op.In())
		op.Pinv(hy, c.y)
		mu, s := sampler.Mu(0.4), sampler.Sigma(0.4)
		for i := range hy {
			if got := mu*hy[i] + s*c.z[i]; math.Abs(got-c.xInit[i]) > 1e-7 {
				t.Errorf("%s x_init[%d] = %.9f, want %v", name, i, got, c.xInit[i])
			}
		}
	}
}

// randomProblem returns a random Gaussian problem with d unknowns and m
// measurements; with pointMass the prior is δ_c and y = Hc is consistent.
func randomProblem(t *testing.T, r *rand.Rand, d, m int, pointMass bool) (*gaussian.Prior, operator.Operator, []float64, []float64) {
	t.Helper()
	h := make([][]float64, m)
	for i := range h {
		h[i] = make([]float64, d)
		for j := range h[i] {
			h[i][j] = r.NormFloat64()
		}
	}
	mean := make([]float64, d)
	for i := range mean {
		mean[i] = r.NormFloat64() * 0.5
	}
	cov := make([][]float64, d)
	a := make([][]float64, d)
	for i := range a {
		a[i] = make([]float64, d)
		for j := range a[i] {
			a[i][j] = r.NormFloat64() * 0.4
		}
	}
	for i := range cov {
		cov[i] = make([]float64, d)
		for j := range cov[i] {
			if pointMass {
				continue
			}
			for k := range d {
				cov[i][j] += a[i][k] * a[j][k]
			}
			if i == j {
				cov[i][j] += 0.05
			}
		}
	}
	prior, err := gaussian.New(mean, cov)
	if err != nil {
		t.Fatal(err)
	}
	op, err := operator.NewDense(h)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float64, m)
	if pointMass {
		op.Forward(y, mean)
	} else {
		for i := range y {
			y[i] = r.NormFloat64()
		}
	}
	z := make([]float64, d)
	for i := range z {
		z[i] = r.NormFloat64()
	}
	return prior, op, y, z
}

func run(t *testing.T, prior *gaussian.Prior, op operator.Operator, y []float64, sigmaY float64, o sampler.Options, z []float64) []float64 {
	t.Helper()
	x, err := toy.Run(prior, op, y, sigmaY, o, z)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func opts(m sampler.Method, lambda, w float64, n int) sampler.Options {
	o := sampler.DefaultOptions(m)
	o.Lambda, o.W, o.Steps = lambda, w, n
	return o
}

// ALGORITHM.md §3.6-1: with w = λ = 0, C-ΠGDM is DDIM; so is ΠGDM.
func TestDDIMReduction(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := range 4 {
		prior, op, y, z := randomProblem(t, r, 6, 3, false)
		for _, n := range []int{1, 5, 20} {
			ddim := run(t, prior, op, y, 0, opts(sampler.DDIM, 0, 0, n), z)
			for _, m := range []sampler.Method{sampler.CPiGDM, sampler.PiGDM} {
				got := run(t, prior, op, y, 0, opts(m, 0, 0, n), z)
				if d := maxDiff(got, ddim); d > 1e-12 {
					t.Errorf("trial %d N=%d: %s at w=λ=0 differs from DDIM by %.2g", trial, n, m, d)
				}
			}
		}
	}
}

// ALGORITHM.md §6.3-2: for a point mass δ_c and y = Hc, ε is constant along
// the exact trajectory and every guidance term vanishes, so with λ = 0 each
// method lands exactly on x_N = μ_N c + σ_N ε₀ for any w and N.
func TestPointMassExact(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	prior, op, y, z := randomProblem(t, r, 6, 3, true)
	pinvY := make([]float64, 6)
	op.Pinv(pinvY, y)
	for _, m := range sampler.Methods {
		for _, w := range []float64{0, 1, 15} {
			for _, n := range []int{1, 2, 5} {
				o := opts(m, 0, w, n)
				got := run(t, prior, op, y, 0, o, z)
				// The prior mean is c; x₀ = μ₀H†y + σ₀z gives ε₀ = (x₀ − μ₀c)/σ₀.
				want := make([]float64, 6)
				mu0, s0 := sampler.Mu(o.Tau0), sampler.Sigma(o.Tau0)
				muN, sN := sampler.Mu(o.TauEnd), sampler.Sigma(o.TauEnd)
				mean := pointMean(t, prior)
				for i := range want {
					x0 := mu0*pinvY[i] + s0*z[i]
					want[i] = muN*mean[i] + sN*(x0-mu0*mean[i])/s0
				}
				if d := maxDiff(got, want); d > 1e-13 {
					t.Errorf("%s w=%v N=%d: off the exact point-mass trajectory by %.2g", m, w, n, d)
				}
			}
		}
	}
}

// pointMean recovers the mean c of a point-mass prior from its denoiser:
// ε(x, τ) = (x − μc)/σ, so c = (x − σε)/μ at any x.
func pointMean(t *testing.T, prior *gaussian.Prior) []float64 {
	t.Helper()
	d := prior.Dim()
	x, eps := make([]float64, d), make([]float64, d)
	for i := range x {
		x[i] = float64(i) - 2.5
	}
	prior.Eps(eps, x, 0.3)
	c := make([]float64, d)
	for i := range c {
		c[i] = (x[i] - sampler.Sigma(0.3)*eps[i]) / sampler.Mu(0.3)
	}
	return c
}
