package sampler

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// Fold holds the seven float64 coefficients of one folded C-ΠGDM step from
// τ_i to τ_{i+1} (ALGORITHM.md §I.2):
//
//	x' = AQ·x + BQ·ε + GQ·g + P[(AP−AQ)·x + (BP−BQ)·ε + (GP−GQ)·g] + D·H†y
//
// Folding divides every term of the projected update by the conjugate map at
// τ_{i+1}, so all seven stay of order one and float32 vectors suffice.
// The Q coefficients do not depend on w: with w = 0 they are DDIM's.
type Fold struct {
	AQ, BQ, GQ float64 // null-space part Q = I − P
	AP, BP, GP float64 // range part P
	D          float64 // weight of H†y
}

// Increments are the differences Δ_k = Φ_k(τ_{i+1}) − Φ_k(τ_i) of the
// projected ODE's coefficients (ALGORITHM.md §3.3), the quantities the
// reference code integrates; tests compare them with §6.4.
type Increments struct {
	Y, S1, S2, J1, J2 float64
}

// logE1 returns c₁(τ) = λτ + b(τ)/2, the log of the conjugate map on Q.
func logE1(tau, lambda float64) float64 { return lambda*tau + IntBeta(tau)/2 }

// logE12 returns c₁(τ) + c₂(τ), the log of the conjugate map on P.
func logE12(tau, w, lambda float64) float64 { return logE1(tau, lambda) - w/2*IntBeta(tau) }

// MapFactors returns e^{c₁(τ)} and e^{c₂(τ)}, the factors of the conjugate
// map A_τ = e^{c₁}[(I − P) + e^{c₂}P] (ALGORITHM.md §3.2).
func MapFactors(tau, w, lambda float64) (e1, e2 float64) {
	return math.Exp(logE1(tau, lambda)), math.Exp(-w / 2 * IntBeta(tau))
}

// Increments recovers the Δ_k of the step ending at tauNext from f.
func (f Fold) Increments(tauNext, w, lambda float64) Increments {
	e1 := math.Exp(logE1(tauNext, lambda))
	e12 := math.Exp(logE12(tauNext, w, lambda))
	s1, j1 := f.BQ*e1, f.GQ*e1
	return Increments{Y: f.D * e12, S1: s1, S2: f.BP*e12 - s1, J1: j1, J2: f.GP*e12 - j1}
}

// CPiGDMPlan returns the folded coefficients of every step of grid: closed
// forms when λ = 0 (ALGORITHM.md §3.3), adaptive quadrature otherwise.
func CPiGDMPlan(grid []float64, w, lambda float64) []Fold {
	plan := make([]Fold, len(grid)-1)
	for i := range plan {
		if lambda == 0 {
			plan[i] = closedFold(grid[i], grid[i+1], w)
		} else {
			plan[i] = quadFold(grid[i], grid[i+1], w, lambda)
		}
	}
	return plan
}

// closedFold is the λ = 0 step a → b in closed form, written as ratios so
// that nothing of size e^{±c₂} is ever formed.
func closedFold(a, b, w float64) Fold {
	ma, mb, sa, sb := Mu(a), Mu(b), Sigma(a), Sigma(b)
	r := math.Exp((w - 1) / 2 * (IntBeta(b) - IntBeta(a))) // (μ_a/μ_b)^{w−1}
	f := Fold{
		AQ: mb / ma,
		BQ: sb - sa*mb/ma,
		GQ: mb * w * ((math.Atanh(sb) - sb) - (math.Atanh(sa) - sa)),
		AP: r,
		BP: sb - sa*r,
		D:  mb - ma*r,
	}
	if w > 0 {
		f.GP = w / 2 * betaTail(w, a, b) * math.Exp(-(w-1)*math.Log(mb))
	}
	return f
}

// betaTail returns ∫_a^b βσμ^w dτ = ∫_{μ_b²}^{μ_a²} u^{w/2−1}(1−u)^{1/2} du
// (substituting u = μ², du = −βu dτ),
// as a difference of regularised incomplete beta functions taken on
// whichever side keeps the two terms small, so that large w does not cancel
// away the digits (ALGORITHM.md §3.3).
func betaTail(w, a, b float64) float64 {
	p, q := w/2, 1.5
	xa, xb := Mu(a)*Mu(a), Mu(b)*Mu(b)
	scale := math.Exp(mathext.Lbeta(p, q))
	if mathext.RegIncBeta(p, q, xb) < 0.5 {
		return scale * (mathext.RegIncBeta(p, q, xa) - mathext.RegIncBeta(p, q, xb))
	}
	// 1 − I_x(p, q) = I_{1−x}(q, p), and 1 − μ² = σ².
	sa, sb := Sigma(a), Sigma(b)
	return scale * (mathext.RegIncBeta(q, p, sb*sb) - mathext.RegIncBeta(q, p, sa*sa))
}

// quadFold is the step a → b for any λ: the integrands of §3.3 divided by
// the conjugate map at b, integrated numerically.
func quadFold(a, b, w, lambda float64) Fold {
	c1b, c12b := logE1(b, lambda), logE12(b, w, lambda)
	q1 := func(u float64) float64 { return math.Exp(logE1(u, lambda) - c1b) }
	q12 := func(u float64) float64 { return math.Exp(logE12(u, w, lambda) - c12b) }
	euler := 1 + lambda*(b-a) // the λ term of the reference code is explicit Euler
	return Fold{
		AQ: euler * q1(a),
		AP: euler * q12(a),
		BQ: integrate(func(u float64) float64 { return Beta(u) / 2 * q1(u) / Sigma(u) }, a, b),
		GQ: integrate(func(u float64) float64 { return w * Beta(u) / 2 * q1(u) * Sigma(u) * Mu(u) }, a, b),
		BP: integrate(func(u float64) float64 {
			s := Sigma(u)
			return Beta(u) / 2 * q12(u) * (1/s - w*s)
		}, a, b),
		GP: integrate(func(u float64) float64 { return w * Beta(u) / 2 * q12(u) * Sigma(u) * Mu(u) }, a, b),
		D:  integrate(func(u float64) float64 { return -w * Beta(u) / 2 * q12(u) * Mu(u) }, a, b),
	}
}
