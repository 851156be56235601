package sampler

import (
	"fmt"
	"math"
	"testing"
)

// Reference increments from ALGORITHM.md §6.4 (exact coefficients,
// num_eps = 0), printed there to about 7 significant digits.
var refIncrementsW15N5 = []Increments{
	{3.691480e-04, -0.6630862, 0.6635870, -3.726590, 3.726284},
	{0.010813, -0.459461, 0.469083, -2.535688, 2.527980},
	{0.118167, -0.345866, 0.408160, -1.443382, 1.377778},
	{0.448867, -0.284639, 0.371380, -0.586398, 0.422614},
	{0.420955, -0.264784, 0.116095, -0.097623, 0.026562},
}

var refIncrementsLamNeg = []Increments{
	{0.1456138, -0.6279707, 0.7038182, -0.470603, 0.3464623},
	{0.1919367, -0.4404036, 0.4603213, -0.3240248, 0.1818066},
	{0.2057115, -0.3355409, 0.2662654, -0.1866211, 0.0663715},
	{0.1651481, -0.2794927, 0.1120679, -0.0766933, 0.0126552},
	{0.0697798, -0.2631892, 0.0192161, -0.012901, 0.0005492},
}

// closeSig reports whether got matches a reference printed to digits
// significant digits: the tolerance is half a unit in the last printed place.
func closeSig(got, want float64, digits int) bool {
	if want == 0 {
		return math.Abs(got) < 1e-12
	}
	ulp := math.Pow(10, math.Floor(math.Log10(math.Abs(want)))-float64(digits-1))
	return math.Abs(got-want) <= 0.5*ulp+1e-12
}

func sigDigits(v float64) int {
	s := fmt.Sprintf("%g", math.Abs(v))
	n := 0
	lead := true
	for _, c := range s {
		if c == 'e' {
			break
		}
		if c >= '1' && c <= '9' || (c == '0' && !lead) {
			lead = false
			n++
		}
	}
	return n
}

func checkIncrements(t *testing.T, name string, grid []float64, plan []Fold, w, lambda float64, ref []Increments) {
	t.Helper()
	for i, f := range plan {
		got := f.Increments(grid[i+1], w, lambda)
		g := []float64{got.Y, got.S1, got.S2, got.J1, got.J2}
		r := []float64{ref[i].Y, ref[i].S1, ref[i].S2, ref[i].J1, ref[i].J2}
		for k := range g {
			if !closeSig(g[k], r[k], sigDigits(r[k])) {
				t.Errorf("%s step %d Δ[%d] = %.9g, want %v", name, i, k, g[k], r[k])
			}
		}
	}
}

func TestIncrementsReference(t *testing.T) {
	grid, err := Grid(0.4, 0.001, 5)
	if err != nil {
		t.Fatal(err)
	}
	checkIncrements(t, "closed λ=0 w=15", grid, CPiGDMPlan(grid, 15, 0), 15, 0, refIncrementsW15N5)
	quad := make([]Fold, 5)
	for i := range quad {
		quad[i] = quadFold(grid[i], grid[i+1], 15, 0)
	}
	checkIncrements(t, "quadrature λ=0 w=15", grid, quad, 15, 0, refIncrementsW15N5)
	checkIncrements(t, "quadrature λ=−0.15 w=2", grid, CPiGDMPlan(grid, 2, -0.15), 2, -0.15, refIncrementsLamNeg)

	grid20, _ := Grid(0.4, 0.001, 20)
	plan20 := CPiGDMPlan(grid20, 15, 0)
	checkIncrements(t, "N=20 step 0", grid20[:2], plan20[:1], 15, 0, []Increments{{1.0837e-05, -0.192090, 0.192109, -1.044349, 1.044339}})
	checkIncrements(t, "N=20 step 19", grid20[19:], plan20[19:], 15, 0, []Increments{{0.046486, -0.070031, 0.0038006, -0.0025891, 7.4150e-05}})
}

func TestFoldExample(t *testing.T) {
	// ALGORITHM.md §I.2: λ = 0, w = 15, N = 5, step 0.
	grid, _ := Grid(0.4, 0.001, 5)
	f := CPiGDMPlan(grid, 15, 0)[0]
	got := []float64{f.AQ, f.BQ, f.GQ, f.AP, f.BP, f.GP, f.D}
	want := []float64{1.336, -0.392, -2.202, 0.0173, 0.791, -0.484, 0.583}
	for k := range got {
		if !closeSig(got[k], want[k], sigDigits(want[k])) {
			t.Errorf("coefficient %d = %.6g, want %v", k, got[k], want[k])
		}
	}
}

func TestMapFactorsReference(t *testing.T) {
	taus := []float64{0.4, 0.3202, 0.2404, 0.1606, 0.0808, 0.001}
	want := [][2]float64{{2.261436, 4.8332e-06}, {1.692297, 3.7398e-04}, {1.349233, 1.1187e-02},
		{1.146080, 0.129354}, {1.037195, 0.578221}, {1.000055, 0.999176}}
	for i, tau := range taus {
		e1, e2 := MapFactors(tau, 15, 0)
		if !closeSig(e1, want[i][0], 7) || !closeSig(e2, want[i][1], 5) {
			t.Errorf("τ=%v: (e^c1, e^c2) = (%.7g, %.5g), want %v", tau, e1, e2, want[i])
		}
	}
}

// The closed forms and the quadrature are independent computations of the
// same integrals; at λ = 0 they must agree far below float32 resolution.
func TestClosedFormMatchesQuadrature(t *testing.T) {
	for _, w := range []float64{0, 1, 2, 7.5, 15, 30} {
		for _, n := range []int{1, 5, 20} {
			for _, tau0 := range []float64{0.4, 0.9} {
				grid, err := Grid(tau0, 0.001, n)
				if err != nil {
					t.Fatal(err)
				}
				for i, c := range CPiGDMPlan(grid, w, 0) {
					q := quadFold(grid[i], grid[i+1], w, 0)
					cs := []float64{c.AQ, c.BQ, c.GQ, c.AP, c.BP, c.GP, c.D}
					qs := []float64{q.AQ, q.BQ, q.GQ, q.AP, q.BP, q.GP, q.D}
					for k := range cs {
						if d := math.Abs(cs[k] - qs[k]); d > 1e-9*math.Max(1, math.Abs(cs[k])) {
							t.Errorf("w=%v n=%d τ0=%v step %d coeff %d: closed %.15g quad %.15g", w, n, tau0, i, k, cs[k], qs[k])
						}
					}
				}
			}
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	good := DefaultOptions(CPiGDM)
	if _, err := good.Validate(); err != nil {
		t.Fatalf("default options rejected: %v", err)
	}
	bad := map[string]func(*Options){
		"steps 0":        func(o *Options) { o.Steps = 0 },
		"unknown method": func(o *Options) { o.Method = "euler" },
		"tau0 > 1":       func(o *Options) { o.Tau0 = 1.5 },
		"tau_end 0":      func(o *Options) { o.TauEnd = 0 },
		"tau_end ≥ tau0": func(o *Options) { o.TauEnd = 0.5 },
		"negative w":     func(o *Options) { o.W = -1 },
		"NaN lambda":     func(o *Options) { o.Lambda = math.NaN() },
		"infinite w":     func(o *Options) { o.W = math.Inf(1) },
		"NaN tau0":       func(o *Options) { o.Tau0 = math.NaN() },
		"negative steps": func(o *Options) { o.Steps = -3 },
	}
	for name, mutate := range bad {
		o := good
		mutate(&o)
		if _, err := o.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// NoisyFold's fixed rule in √τ against adaptive quadrature of the same
// integrands in τ, over the steps of 5- and 20-step grids (the last one
// reaches τ_N = 0.001, where 1/σ is steepest) and singular values from the
// noise floor to far above it.
func TestNoisyQuadrature(t *testing.T) {
	for _, n := range []int{5, 20} {
		grid, _ := Grid(0.7, 0.001, n)
		for _, c := range []struct{ w, lambda, sigmaY float64 }{{15, 0, 0.05}, {2, -0.15, 0.02}, {60, 0.3, 0.01}} {
			plan := NoisyPlan(grid, c.w, c.lambda, c.sigmaY)
			for i, f := range plan {
				if n == 20 && i > 0 && i < n-1 {
					continue // the first and the steepest step suffice there
				}
				a, b := grid[i], grid[i+1]
				for _, s2 := range []float64{1e-8, 1e-4, 4e-4, 0.01, 0.3, 1, 50} {
					k := s2 / (c.sigmaY * c.sigmaY)
					soft := func(u float64) float64 { return softK(k, IntBeta(u), -math.Expm1(-IntBeta(u))) }
					// A(u)/A(b), and its excess over the null space's without
					// cancellation, which would stall the adaptive rule.
					null := func(u float64) float64 { return math.Exp(logE1(u, c.lambda) - logE1(b, c.lambda)) }
					excess := func(u float64) float64 { return null(u) * math.Expm1(-c.w/2*(soft(u)-soft(b))) }
					ratio := func(u float64) float64 { return null(u) + excess(u) }
					pi := func(u float64) float64 { s := -math.Expm1(-IntBeta(u)); return s * k / (s*k + 1) }
					want := [3]float64{
						integrate(func(u float64) float64 {
							s := Sigma(u)
							return Beta(u) / 2 * (excess(u)/s - c.w*s*pi(u)*ratio(u))
						}, a, b),
						integrate(func(u float64) float64 { return c.w / 2 * Beta(u) * Mu(u) * Sigma(u) * excess(u) }, a, b),
						integrate(func(u float64) float64 { return -c.w / 2 * Beta(u) * Mu(u) * pi(u) * ratio(u) }, a, b),
					}
					_, de, dg, cy := f.coefficients(s2)
					for j, got := range [3]float64{de, dg, cy} {
						scale := math.Abs(want[j]) + 1e-3*math.Abs(f.Null.BQ) + 1e-300
						if math.Abs(got-want[j]) > 1e-11*scale {
							t.Errorf("N=%d w=%v step %d s²=%g: coefficient %d = %.15g, adaptive %.15g", n, c.w, i, s2, j, got, want[j])
						}
					}
				}
			}
		}
	}
}

// The interpolated gains against the quadrature they tabulate, across the
// table (κ from 1e-12 to 1e12) and beyond its ends.
func TestNoisyTable(t *testing.T) {
	grid, _ := Grid(0.7, 0.001, 5)
	for _, c := range []struct{ w, sigmaY float64 }{{15, 0.05}, {60, 0.01}, {2, 0.3}} {
		for i, f := range NoisyPlan(grid, c.w, -0.1, c.sigmaY) {
			gains := [4]func(float64) float64{}
			gains[0], gains[1], gains[2], gains[3] = f.Gains()
			for _, lk := range []float64{-40, -27.6, -10.3, -1.01, 0, 0.37, 2.2, 8.9, 19.5, 31.9, 45} {
				s2 := math.Exp(lk) * c.sigmaY * c.sigmaY
				dx, de, dg, cy := f.coefficients(s2)
				for k, want := range [4]float64{dx / s2, de / s2, dg / s2, cy / s2} {
					if got := gains[k](s2); math.Abs(got-want) > 1e-9*math.Abs(want)+1e-300 {
						t.Errorf("w=%v σy=%v step %d ln κ=%v: gain %d = %.12g, quadrature %.12g", c.w, c.sigmaY, i, lk, k, got, want)
					}
				}
			}
			if x, _, _, _ := f.Gains(); x(0) != 0 {
				t.Errorf("gain at s² = 0 is %v, want 0", x(0))
			}
		}
	}
}
