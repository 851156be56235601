package sampler_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"conjure/operator"
	"conjure/sampler"
	"conjure/sampler/gaussian"
)

// dense is the test's own float64 linear algebra on a Gaussian problem,
// written from ALGORITHM.md's formulas without the folding, so that it
// checks the samplers independently.
type dense struct {
	prior *gaussian.Prior
	h, hp *mat.Dense // H and H†
	p     *mat.Dense // P = H†H
	pinvY []float64
	y     []float64
}

func newDense(t *testing.T, prior *gaussian.Prior, rows [][]float64, y []float64) *dense {
	t.Helper()
	m, d := len(rows), len(rows[0])
	h := mat.NewDense(m, d, nil)
	for i, row := range rows {
		h.SetRow(i, row)
	}
	// H has full row rank here, so H† = Hᵀ(HHᵀ)⁻¹.
	var hp, p, hht, inv mat.Dense
	hht.Mul(h, h.T())
	if err := inv.Inverse(&hht); err != nil {
		t.Fatal(err)
	}
	hp.Mul(h.T(), &inv)
	p.Mul(&hp, h)
	pinvY := make([]float64, d)
	mat.NewVecDense(d, pinvY).MulVec(&hp, mat.NewVecDense(m, append([]float64(nil), y...)))
	return &dense{prior: prior, h: h, hp: &hp, p: &p, pinvY: pinvY, y: y}
}

func (c *dense) mul(a *mat.Dense, x []float64) []float64 {
	r, _ := a.Dims()
	out := make([]float64, r)
	mat.NewVecDense(r, out).MulVec(a, mat.NewVecDense(len(x), append([]float64(nil), x...)))
	return out
}

// axpy returns Σ cᵢ·vᵢ.
func axpy(cs []float64, vs ...[]float64) []float64 {
	out := make([]float64, len(vs[0]))
	for k, v := range vs {
		for i := range out {
			out[i] += cs[k] * v[i]
		}
	}
	return out
}

// epsAndG returns ε(x, τ) and g = J_εᵀ(H†y − P x̂₀).
func (c *dense) epsAndG(x []float64, tau float64) (eps, v, g []float64) {
	d := len(x)
	eps, g = make([]float64, d), make([]float64, d)
	c.prior.Eps(eps, x, tau)
	mu, s := sampler.Mu(tau), sampler.Sigma(tau)
	x0 := axpy([]float64{1 / mu, -s / mu}, x, eps)
	v = axpy([]float64{1, -1}, c.pinvY, c.mul(c.p, x0))
	c.prior.VJP(g, v)
	return eps, v, g
}

// simpson integrates f over [a, b] with the composite Simpson rule on n
// (even) panels: a plain rule, independent of the package's quadrature.
func simpson(f func(float64) float64, a, b float64, n int) float64 {
	hh := (b - a) / float64(n)
	s := f(a) + f(b)
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		s += w * f(a+float64(i)*hh)
	}
	return s * hh / 3
}

// c1 and c2 of the conjugate map, ALGORITHM.md §3.2.
func c1(tau, lambda float64) float64 { return lambda*tau + sampler.IntBeta(tau)/2 }
func c2(tau, w float64) float64      { return -w / 2 * sampler.IntBeta(tau) }

// aForm runs C-ΠGDM literally as ALGORITHM.md §3.4 (x̄ = A_τ x, increments
// of Φ by Simpson's rule).
func (c *dense) aForm(x []float64, grid []float64, w, lambda float64) []float64 {
	d := len(x)
	id := mat.NewDiagDense(d, nil)
	for i := range d {
		id.SetDiag(i, 1)
	}
	amap := func(u float64, sign float64) *mat.Dense { // A_τ^{±1} = e^{±c1}[I + (e^{±c2} − 1)P]
		var a mat.Dense
		a.Scale(math.Exp(sign*c2(u, w))-1, c.p)
		a.Add(&a, id)
		a.Scale(math.Exp(sign*c1(u, lambda)), &a)
		return &a
	}
	phi := map[string]func(u float64) float64{
		"y": func(u float64) float64 {
			return -w / 2 * sampler.Beta(u) * math.Exp(c1(u, lambda)+c2(u, w)) * sampler.Mu(u)
		},
		"s1": func(u float64) float64 { return sampler.Beta(u) / 2 * math.Exp(c1(u, lambda)) / sampler.Sigma(u) },
		"s2": func(u float64) float64 {
			return sampler.Beta(u)/2*math.Exp(c1(u, lambda))*(math.Exp(c2(u, w))-1)/sampler.Sigma(u) -
				w/2*sampler.Beta(u)*sampler.Sigma(u)*math.Exp(c1(u, lambda)+c2(u, w))
		},
		"j1": func(u float64) float64 {
			return w / 2 * sampler.Beta(u) * math.Exp(c1(u, lambda)) * sampler.Sigma(u) * sampler.Mu(u)
		},
		"j2": func(u float64) float64 {
			return w / 2 * sampler.Beta(u) * math.Exp(c1(u, lambda)) * (math.Exp(c2(u, w)) - 1) * sampler.Sigma(u) * sampler.Mu(u)
		},
	}
	for i := range len(grid) - 1 {
		a, b := grid[i], grid[i+1]
		dl := map[string]float64{}
		for k, f := range phi {
			dl[k] = -simpson(f, b, a, 20000)
		}
		eps, _, g := c.epsAndG(x, a)
		xbar := c.mul(amap(a, 1), x)
		xbar = axpy([]float64{1 + lambda*(b-a), dl["y"], dl["s1"], dl["s2"], dl["j1"], dl["j2"]},
			xbar, c.pinvY, eps, c.mul(c.p, eps), g, c.mul(c.p, g))
		x = c.mul(amap(b, -1), xbar)
	}
	return x
}

// noisyV returns ΠGDM's noisy residual σ_τ²Hᵀ(σ_τ²HHᵀ + σ_y²I)⁻¹(y − Hx̂₀)
// by a dense solve.
func (c *dense) noisyV(x0 []float64, tau, sigmaY float64) []float64 {
	m, _ := c.h.Dims()
	s2 := 1 - math.Exp(-sampler.IntBeta(tau))
	var a mat.Dense
	a.Mul(c.h, c.h.T())
	a.Scale(s2, &a)
	for i := range m {
		a.Set(i, i, a.At(i, i)+sigmaY*sigmaY)
	}
	r := axpy([]float64{1, -1}, c.y, c.mul(c.h, x0))
	var sol mat.VecDense
	if err := sol.SolveVec(&a, mat.NewVecDense(m, r)); err != nil {
		panic(err)
	}
	var ht mat.Dense
	ht.Scale(s2, c.h.T())
	return c.mul(&ht, sol.RawVector().Data)
}

// epsAndNoisyG returns ε(x, τ), the noisy residual v and g = J_εᵀ v.
func (c *dense) epsAndNoisyG(x []float64, tau, sigmaY float64) (eps, v, g []float64) {
	d := len(x)
	eps, g = make([]float64, d), make([]float64, d)
	c.prior.Eps(eps, x, tau)
	mu, s := sampler.Mu(tau), sampler.Sigma(tau)
	v = c.noisyV(axpy([]float64{1 / mu, -s / mu}, x, eps), tau, sigmaY)
	c.prior.VJP(g, v)
	return eps, v, g
}

// noisyAForm runs noisy C-ΠGDM literally in projected form, x̄ = A_τ x with
// the exact map A_τ = V diag(e^{c₁ − (w/2)K(s)}) Vᵀ from the
// eigendecomposition HᵀH = V diag(s²) Vᵀ, where K(s) = ∫₀^τ βπ is written
// as b − ρ·log(1 + (e^b − 1)/ρ), ρ = σ_y²/(s² + σ_y²): a different formula
// from the package's. The increments of each direction are integrated by
// Simpson's rule, and x is recovered with the exact inverse map.
func (c *dense) noisyAForm(x []float64, grid []float64, w, lambda, sigmaY float64) []float64 {
	d := len(x)
	var hth mat.SymDense
	hth.SymOuterK(1, c.h.T())
	var eig mat.EigenSym
	if !eig.Factorize(&hth, true) {
		panic("eigendecomposition failed")
	}
	var v mat.Dense
	eig.VectorsTo(&v)
	s2 := eig.Values(nil)
	top := floatsMax(s2)
	rho := make([]float64, d)
	for i, e := range s2 {
		if e < 1e-12*top {
			s2[i] = 0
		}
		rho[i] = sigmaY * sigmaY / (s2[i] + sigmaY*sigmaY)
	}
	inV := func(u []float64) []float64 { return c.mul(mat.DenseCopyOf(v.T()), u) }
	outV := func(u []float64) []float64 { return c.mul(&v, u) }
	amap := func(u float64, i int) float64 {
		b := sampler.IntBeta(u)
		k := b - rho[i]*math.Log(1+(math.Exp(b)-1)/rho[i])
		return math.Exp(c1(u, lambda) - w/2*k)
	}
	pi := func(u float64, i int) float64 {
		s := 1 - math.Exp(-sampler.IntBeta(u))
		return s * s2[i] / (s*s2[i] + sigmaY*sigmaY)
	}
	for step := range len(grid) - 1 {
		a, b := grid[step], grid[step+1]
		eps, _, g := c.epsAndNoisyG(x, a, sigmaY)
		xs, es, gs, ys := inV(x), inV(eps), inV(g), inV(c.pinvY)
		next := make([]float64, d)
		for i := range d {
			de := -simpson(func(u float64) float64 {
				sg := sampler.Sigma(u)
				return sampler.Beta(u) / 2 * (1/sg - w*sg*pi(u, i)) * amap(u, i)
			}, b, a, 20000)
			dg := -simpson(func(u float64) float64 {
				return w / 2 * sampler.Beta(u) * sampler.Mu(u) * sampler.Sigma(u) * amap(u, i)
			}, b, a, 20000)
			dy := -simpson(func(u float64) float64 {
				return -w / 2 * sampler.Beta(u) * sampler.Mu(u) * pi(u, i) * amap(u, i)
			}, b, a, 20000)
			xbar := (1+lambda*(b-a))*amap(a, i)*xs[i] + de*es[i] + dg*gs[i] + dy*ys[i]
			next[i] = xbar / amap(b, i)
		}
		x = outV(next)
	}
	return x
}

func floatsMax(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

// The folded step (§I.2) against the literal A-form (§3.4) in float64, for
// λ ≠ 0 (quadrature coefficients) and λ = 0 (closed forms).
func TestFoldedMatchesAForm(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, c := range []struct {
		lambda, w float64
		n         int
	}{{0, 15, 5}, {0.3, 15, 10}, {0.3, 2, 5}, {-0.15, 2, 5}, {0.8, 6, 3}} {
		prior, op, y, z := randomProblem(t, r, 6, 3, false)
		ref := newDense(t, prior, denseRows(op), y)
		o := opts(sampler.CPiGDM, c.lambda, c.w, c.n)
		grid, _ := o.Validate()
		x0 := axpy([]float64{sampler.Mu(0.4), sampler.Sigma(0.4)}, ref.pinvY, z)
		want := ref.aForm(x0, grid, c.w, c.lambda)
		got := run(t, prior, op, y, 0, o, z)
		if d := maxDiff(got, want); d > 1e-8 {
			t.Errorf("λ=%v w=%v N=%d: folded and A-form differ by %.2g", c.lambda, c.w, c.n, d)
		}
	}
}

// Noisy C-ΠGDM (NoisyFold) against the literal projected form with the
// exact spectral map, in float64, on random problems whose H has a null
// space (d = 6, m = 3) and on a wide range of σ_y.
func TestNoisyMatchesAForm(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	for _, c := range []struct {
		lambda, w, sigmaY float64
		n                 int
	}{{0, 15, 0.05, 5}, {-0.15, 2, 0.05, 5}, {0, 4, 0.1, 10}, {0.2, 1, 0.3, 4}, {0, 60, 0.01, 5}, {0.3, 6, 1.5, 3}} {
		prior, op, y, z := randomProblem(t, r, 6, 3, false)
		ref := newDense(t, prior, denseRows(op), y)
		o := opts(sampler.CPiGDM, c.lambda, c.w, c.n)
		grid, _ := o.Validate()
		x0 := axpy([]float64{sampler.Mu(0.4), sampler.Sigma(0.4)}, ref.pinvY, z)
		want := ref.noisyAForm(x0, grid, c.w, c.lambda, c.sigmaY)
		got := run(t, prior, op, y, c.sigmaY, o, z)
		if d := maxDiff(got, want); d > 1e-8 {
			t.Errorf("λ=%v w=%v σy=%v N=%d: noisy folded and A-form differ by %.2g", c.lambda, c.w, c.sigmaY, c.n, d)
		}
		if d := maxDiff(got, run(t, prior, op, y, 0, o, z)); d < 1e-4 {
			t.Errorf("σy=%v changed the output by only %.2g: noisy terms inactive", c.sigmaY, d)
		}
	}
}

// As σ_y → 0 the noisy step becomes the noiseless one.
func TestNoisyLimit(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	prior, op, y, z := randomProblem(t, r, 6, 3, false)
	for _, lambda := range []float64{0, 0.3} {
		o := opts(sampler.CPiGDM, lambda, 15, 5)
		if d := maxDiff(run(t, prior, op, y, 1e-9, o, z), run(t, prior, op, y, 0, o, z)); d > 1e-7 {
			t.Errorf("λ=%v: σ_y = 1e-9 differs from the noiseless sampler by %.2g", lambda, d)
		}
	}
}

// denseRows recovers the matrix of a Dense operator column by column.
func denseRows(op operator.Operator) [][]float64 {
	d, m := op.In(), op.Out()
	rows := make([][]float64, m)
	for i := range rows {
		rows[i] = make([]float64, d)
	}
	e, col := make([]float64, d), make([]float64, m)
	for j := range d {
		e[j] = 1
		op.Forward(col, e)
		e[j] = 0
		for i := range m {
			rows[i][j] = col[i]
		}
	}
	return rows
}

// ΠGDM literally as the reference code's PGDMSampler (§2.3): λ-DDIM on
// x̄ = A x with A = e^{λτ+b/2}, guidance by explicit Euler.
func TestPiGDMMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, c := range []struct {
		lambda, w float64
		n         int
	}{{0, 6, 20}, {0.3, 2, 5}, {-0.2, 10, 7}} {
		prior, op, y, z := randomProblem(t, r, 5, 2, false)
		ref := newDense(t, prior, denseRows(op), y)
		o := opts(sampler.PiGDM, c.lambda, c.w, c.n)
		grid, _ := o.Validate()
		x := axpy([]float64{sampler.Mu(0.4), sampler.Sigma(0.4)}, ref.pinvY, z)
		A := func(u float64) float64 { return math.Exp(c1(u, c.lambda)) }
		for i := range c.n {
			a, b := grid[i], grid[i+1]
			dPhi := -simpson(func(u float64) float64 { return sampler.Beta(u) / 2 * A(u) / sampler.Sigma(u) }, b, a, 20000)
			eps, v, g := ref.epsAndG(x, a)
			mu, s := sampler.Mu(a), sampler.Sigma(a)
			jx0 := axpy([]float64{1 / mu, -s / mu}, v, g) // J_{x̂₀}ᵀ v
			ds := a - b
			xbar := axpy([]float64{A(a) * (1 - c.lambda*ds), dPhi, c.w / 2 * sampler.Beta(a) * A(a) * ds}, x, eps, jx0)
			x = axpy([]float64{1 / A(b)}, xbar)
		}
		got := run(t, prior, op, y, 0, o, z)
		if d := maxDiff(got, x); d > 1e-8 {
			t.Errorf("λ=%v w=%v N=%d: ΠGDM differs from the reference by %.2g", c.lambda, c.w, c.n, d)
		}
	}
}

// One DPS step moves x by −W·∇‖y − Hx̂₀(x)‖ relative to DDIM; the gradient
// here comes from central finite differences of the denoiser.
func TestDPSGradientFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	prior, op, y, z := randomProblem(t, r, 5, 3, false)
	ref := newDense(t, prior, denseRows(op), y)
	const w = 0.7
	o := opts(sampler.DPS, 0, w, 1)
	dps := run(t, prior, op, y, 0, o, z)
	ddim := run(t, prior, op, y, 0, opts(sampler.DDIM, 0, 0, 1), z)
	x := axpy([]float64{sampler.Mu(0.4), sampler.Sigma(0.4)}, ref.pinvY, z)
	norm := func(x []float64) float64 {
		eps := make([]float64, len(x))
		prior.Eps(eps, x, 0.4)
		x0 := axpy([]float64{1 / sampler.Mu(0.4), -sampler.Sigma(0.4) / sampler.Mu(0.4)}, x, eps)
		res := axpy([]float64{1, -1}, y, ref.mul(ref.h, x0))
		return math.Sqrt(mat.Dot(mat.NewVecDense(len(res), res), mat.NewVecDense(len(res), res)))
	}
	const hstep = 1e-6
	for i := range x {
		xp, xm := append([]float64(nil), x...), append([]float64(nil), x...)
		xp[i] += hstep
		xm[i] -= hstep
		grad := (norm(xp) - norm(xm)) / (2 * hstep)
		if got, want := dps[i]-ddim[i], -w*grad; math.Abs(got-want) > 1e-7 {
			t.Errorf("DPS step, coordinate %d: moved %.9f, −W∇‖r‖ = %.9f", i, got, want)
		}
	}
}

// The sampler is affine in x_init for a Gaussian prior (§6.6): its matrix F,
// recovered from unit perturbations of z, matches the reference, and Monte
// Carlo moments of x_N over random z match mean and σ²FFᵀ within their
// sampling error.
func TestAffineMapAndMoments(t *testing.T) {
	wantF := [][]float64{
		{.30478597, -.23378632, -.15659923, .09485337},
		{-.21173346, .33699769, .14820654, -.08826656},
		{-.13739499, .1399703, .43504596, .225989},
		{.09433556, -.10974562, .26041288, .82011794},
	}
	wantMean := []float64{0.6019699, 0.10761439, 0.4076679, -0.15638611}
	wantVar := []float64{0.14566, 0.15136, 0.22429, 0.61248}
	prior, err := gaussian.New(caseTB.mean, caseTB.cov)
	if err != nil {
		t.Fatal(err)
	}
	op, err := operator.NewDense(caseTB.h)
	if err != nil {
		t.Fatal(err)
	}
	o := opts(sampler.CPiGDM, 0, 15, 5)
	s0 := sampler.Sigma(0.4)
	zero := make([]float64, 4)
	base := run(t, prior, op, caseTB.y, 0, o, zero)
	for j := range 4 {
		e := make([]float64, 4)
		e[j] = 1
		col := run(t, prior, op, caseTB.y, 0, o, e)
		for i := range 4 {
			// z enters x_init scaled by σ₀, so ∂x_N/∂z_j = σ₀·F[:, j].
			if got := (col[i] - base[i]) / s0; math.Abs(got-wantF[i][j]) > 1e-7 {
				t.Errorf("F[%d][%d] = %.9f, want %v", i, j, got, wantF[i][j])
			}
		}
	}
	const n = 4000
	r := rand.New(rand.NewPCG(71, 72))
	sum, sq := make([]float64, 4), make([]float64, 4)
	for range n {
		z := []float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
		x := run(t, prior, op, caseTB.y, 0, o, z)
		for i := range x {
			sum[i] += x[i]
			sq[i] += x[i] * x[i]
		}
	}
	for i := range 4 {
		mean := sum[i] / n
		variance := sq[i]/n - mean*mean
		// 5 standard errors: a false alarm has probability below 1e-6 per check.
		if se := math.Sqrt(wantVar[i] / n); math.Abs(mean-wantMean[i]) > 5*se {
			t.Errorf("mean[%d] = %.5f, want %v ± %.4f", i, mean, wantMean[i], 5*se)
		}
		if se := wantVar[i] * math.Sqrt(2.0/n); math.Abs(variance-wantVar[i]) > 5*se {
			t.Errorf("var[%d] = %.5f, want %v ± %.4f", i, variance, wantVar[i], 5*se)
		}
	}
}
