package sampler

import "math"

// NoisyFold holds the extra coefficients of one folded step of the noisy
// C-ΠGDM variant (ALGORITHM.md §3.8). The reference code uses the map
// A^σ = A + c₃M with M = H†H†ᵀ and the first-order inverse
// (A^σ)⁻¹ ≈ A⁻¹ − c₃A⁻¹MA⁻¹, and adds Δ_yc·MH†y + Δ_sc·Mε + Δ_jc·Mg to the
// projected update. Carrying x instead of x̄ and dividing by e^{c₁+c₂} at
// τ_{i+1}, the step becomes, with the noiseless Fold f:
//
//	m₁ = M(X·x + Y·H†y + S·ε + J·g)
//	m₂ = M(f.AP·x + f.D·H†y + f.BP·ε + f.GP·g + m₁)
//	x' = (noiseless folded step) + m₁ − Kappa·m₂
//
// The reference code instead carries x̄ and re-derives x with the
// approximate inverse at each step; the two differ at second order in c₃.
type NoisyFold struct {
	X, Y, S, J float64
	Kappa      float64 // c₃(τ_{i+1}) / e^{c₁+c₂}(τ_{i+1})
}

// c3 is the noisy map's coefficient c₃(τ) = (wσ_y²/2)(e^{c₁+c₂} − 1)·log(e^b − 1).
// Here σ_y is the noise actually added to y (in [−1, 1] units); the
// reference code passes half of it (ALGORITHM.md §7.11).
func c3(tau, w, lambda, sigmaY float64) float64 {
	return w * sigmaY * sigmaY / 2 * math.Expm1(logE12(tau, w, lambda)) * math.Log(math.Expm1(IntBeta(tau)))
}

// NoisyPlan returns the NoisyFold of every step of grid, by quadrature.
func NoisyPlan(grid []float64, w, lambda, sigmaY float64) []NoisyFold {
	plan := make([]NoisyFold, len(grid)-1)
	for i := range plan {
		a, b := grid[i], grid[i+1]
		e12b := math.Exp(logE12(b, w, lambda))
		k := func(u float64) float64 { return Beta(u) / 2 * c3(u, w, lambda, sigmaY) / e12b }
		plan[i] = NoisyFold{
			X:     (1 + lambda*(b-a)) * c3(a, w, lambda, sigmaY) / e12b,
			Y:     integrate(func(u float64) float64 { return -w * Mu(u) * k(u) }, a, b),
			S:     integrate(func(u float64) float64 { s := Sigma(u); return (1/s - w*s) * k(u) }, a, b),
			J:     integrate(func(u float64) float64 { return w * Sigma(u) * Mu(u) * k(u) }, a, b),
			Kappa: c3(b, w, lambda, sigmaY) / e12b,
		}
	}
	return plan
}
