package sampler

import (
	"fmt"
	"math"
)

// The VP schedule β(τ) = BetaMin + τ(BetaMax − BetaMin) of ALGORITHM.md §1.1.
const (
	BetaMin = 0.1
	BetaMax = 20.0
)

// Beta returns β(τ).
func Beta(tau float64) float64 { return BetaMin + tau*(BetaMax-BetaMin) }

// IntBeta returns b(τ) = ∫₀^τ β.
func IntBeta(tau float64) float64 { return BetaMin*tau + 0.5*tau*tau*(BetaMax-BetaMin) }

// Mu returns μ_τ = e^{−b/2}, the signal scale of x_τ = μ_τ x₀ + σ_τ ε.
func Mu(tau float64) float64 { return math.Exp(-IntBeta(tau) / 2) }

// Sigma returns σ_τ = √(1 − e^{−b}), computed with Expm1 so that it stays
// accurate near τ = 0 where the last steps of every sampler land.
func Sigma(tau float64) float64 { return math.Sqrt(-math.Expm1(-IntBeta(tau))) }

// TauAtRatio returns the τ at which σ_τ/μ_τ = r (r ≥ 0): where
// x_τ/μ_τ = x₀ + r·ε, so a photo with white noise of standard deviation r
// is x_τ/μ_τ for this τ. It solves b(τ) = log(1 + r²).
func TauAtRatio(r float64) float64 {
	b := math.Log1p(r * r)
	a, c := 0.5*(BetaMax-BetaMin), BetaMin
	// The root of a·τ² + c·τ − b, written so that small b loses no digits.
	return 2 * b / (c + math.Sqrt(c*c+4*a*b))
}

// Grid returns the uniform descending grid τ₀ > τ₁ > … > τ_N = tauEnd of n
// steps. It mirrors the reference code, which spaces reverse time s = 1 − τ
// with linspace.
func Grid(tau0, tauEnd float64, n int) ([]float64, error) {
	switch {
	case n < 1:
		return nil, fmt.Errorf("sampler: steps = %d, need at least 1", n)
	case !(tau0 > 0 && tau0 <= 1):
		return nil, fmt.Errorf("sampler: tau0 = %v, need 0 < tau0 ≤ 1", tau0)
	case !(tauEnd > 0 && tauEnd < tau0):
		return nil, fmt.Errorf("sampler: tau_end = %v, need 0 < tau_end < tau0 = %v", tauEnd, tau0)
	}
	s0, s1 := 1-tau0, 1-tauEnd
	step := (s1 - s0) / float64(n)
	g := make([]float64, n+1)
	for i := range n {
		g[i] = 1 - (s0 + float64(i)*step)
	}
	g[n] = tauEnd
	return g, nil
}
