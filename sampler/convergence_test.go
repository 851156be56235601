package sampler_test

import (
	"math"
	"testing"

	"conjure/sampler"
	"conjure/sampler/gaussian"
)

// reference returns the dense float64 reference of the toy problem.
func (c toyCase) reference(t *testing.T) *dense {
	t.Helper()
	prior, err := gaussian.New(c.mean, c.cov)
	if err != nil {
		t.Fatal(err)
	}
	return newDense(t, prior, c.h, c.y)
}

// odeLimit integrates the conditional ODE of ALGORITHM.md §3.1 from τ₀ = 0.4
// to 0.001 with classical RK4 on a fine uniform grid: an independent
// reference for where C-ΠGDM converges as N grows.
func odeLimit(t *testing.T, c toyCase, w float64) []float64 {
	ref := c.reference(t)
	f := func(tau float64, x []float64) []float64 {
		eps, _, g := ref.epsAndG(x, tau)
		b, mu, s := sampler.Beta(tau), sampler.Mu(tau), sampler.Sigma(tau)
		// F x = −β/2·x + wβ/2·Px
		return axpy([]float64{-b / 2, w * b / 2, b / (2 * s), -w * b * s / 2, -w * b * mu / 2, w * b * mu * s / 2},
			x, ref.mul(ref.p, x), eps, ref.mul(ref.p, eps), ref.pinvY, g)
	}
	return rk4(f, axpy([]float64{sampler.Mu(0.4), sampler.Sigma(0.4)}, ref.pinvY, c.z))
}

// The ODE limits printed in §6.6 agree with our own integration of §3.1.
func TestODELimitReference(t *testing.T) {
	for name, c := range map[string]toyCase{"T-A": caseTA, "T-B": caseTB} {
		for w, want := range c.odeLimit {
			if d := maxDiff(odeLimit(t, c, w), want); d > 1e-7 {
				t.Errorf("%s w=%v: RK4 ODE limit differs from ALGORITHM.md by %.2g", name, w, d)
			}
		}
	}
}

// §6.5: C-ΠGDM is first order — the distance to the ODE solution roughly
// halves each time N doubles, for λ = 0 and λ ≠ 0. On T-B the first
// doubling (5 → 10) is still pre-asymptotic (ratio ≈ 1.6), so the ratio is
// checked from N = 10 on.
func TestFirstOrderConvergence(t *testing.T) {
	limit := caseTB.odeLimit[15]
	for _, lambda := range []float64{0, 0.5} {
		var prev float64
		for k, n := range []int{10, 20, 40, 80, 160} {
			err := 0.0
			for i, v := range solve(t, caseTB.problem(sampler.CPiGDM, lambda, 15, n)) {
				err += (v - limit[i]) * (v - limit[i])
			}
			err = math.Sqrt(err)
			if k > 0 {
				if ratio := prev / err; ratio < 1.7 || ratio > 2.4 {
					t.Errorf("λ=%v: error %.4g at N=%d after %.4g at N=%d (ratio %.3f, want ≈ 2)", lambda, err, n, prev, n/2, ratio)
				}
			}
			prev = err
		}
	}
}

// noisyODELimit integrates the conditional ODE with ΠGDM's noisy likelihood
// (r² = σ_τ², guidance weight wσ_τ²μ_τ², ALGORITHM.md §2.2–2.3),
//
//	dx/dτ = −β/2·x + β/(2σ)·ε − wβμ/2·v + wβμσ/2·J_εᵀv,
//	v = σ²Hᵀ(σ²HHᵀ + σ_y²I)⁻¹(y − Hx̂₀),
//
// by RK4 on a fine grid from the H†y start: no conjugate map involved.
func noisyODELimit(t *testing.T, c toyCase, w, sigmaY float64) []float64 {
	ref := c.reference(t)
	f := func(tau float64, x []float64) []float64 {
		eps, v, g := ref.epsAndNoisyG(x, tau, sigmaY)
		b, mu, s := sampler.Beta(tau), sampler.Mu(tau), sampler.Sigma(tau)
		return axpy([]float64{-b / 2, b / (2 * s), -w * b * mu / 2, w * b * mu * s / 2}, x, eps, v, g)
	}
	return rk4(f, axpy([]float64{sampler.Mu(0.4), sampler.Sigma(0.4)}, ref.pinvY, c.z))
}

// Noisy C-ΠGDM converges at first order to the noisy conditional ODE: the
// check that NoisyFold integrates the right equation, independent of how
// its conjugate map is derived.
func TestNoisyFirstOrderConvergence(t *testing.T) {
	for _, c := range []struct{ w, sigmaY, lambda float64 }{{15, 0.05, 0}, {4, 0.3, 0}, {15, 0.05, 0.5}} {
		limit := noisyODELimit(t, caseTB, c.w, c.sigmaY)
		var prev float64
		for k, n := range []int{10, 20, 40, 80, 160} {
			p := caseTB.problem(sampler.CPiGDM, c.lambda, c.w, n)
			p.SigmaY = &c.sigmaY
			err := 0.0
			for i, v := range solve(t, p) {
				err += (v - limit[i]) * (v - limit[i])
			}
			err = math.Sqrt(err)
			if k > 0 {
				if ratio := prev / err; ratio < 1.7 || ratio > 2.4 {
					t.Errorf("w=%v σy=%v λ=%v: error %.4g at N=%d after %.4g at N=%d (ratio %.3f, want ≈ 2)", c.w, c.sigmaY, c.lambda, err, n, prev, n/2, ratio)
				}
			}
			prev = err
		}
	}
}

// rk4 integrates dx/dτ = f(τ, x) from τ = 0.4 to 0.001 with classical RK4
// on 8000 uniform steps.
func rk4(f func(tau float64, x []float64) []float64, x []float64) []float64 {
	const n = 8000
	h := (0.001 - 0.4) / n
	for i := range n {
		tau := 0.4 + float64(i)*h
		k1 := f(tau, x)
		k2 := f(tau+h/2, axpy([]float64{1, h / 2}, x, k1))
		k3 := f(tau+h/2, axpy([]float64{1, h / 2}, x, k2))
		k4 := f(tau+h, axpy([]float64{1, h}, x, k3))
		x = axpy([]float64{1, h / 6, h / 3, h / 3, h / 6}, x, k1, k2, k3, k4)
	}
	return x
}
