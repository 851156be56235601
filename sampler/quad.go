package sampler

import (
	"math"

	"gonum.org/v1/gonum/integrate/quad"
)

// integrate returns ∫_a^b f (b < a allowed) by adaptive bisection of a
// 16-point Gauss–Legendre rule. The integrands here are smooth on
// [τ_N, τ₀] but 1/σ grows like τ^{-1/2} toward 0, which a fixed rule on the
// last interval resolves poorly; bisection spends the points where needed.
func integrate(f func(float64) float64, a, b float64) float64 {
	if a == b {
		return 0
	}
	sign := 1.0
	if b < a {
		a, b, sign = b, a, -1
	}
	// The error budget is relative to ∫|f| over the whole interval and shared
	// in proportion to length, so round-off in a subinterval where f changes
	// sign cannot force endless bisection.
	scale := gauss(func(u float64) float64 { return math.Abs(f(u)) }, a, b)
	tol := 1e-14 * scale / (b - a)
	return sign * bisect(f, a, b, gauss(f, a, b), tol, 0)
}

func gauss(f func(float64) float64, a, b float64) float64 {
	return quad.Fixed(f, a, b, 16, quad.Legendre{}, 0)
}

// bisect refines whole = ∫_a^b f until halving changes it by at most
// tol·(b−a), or the depth limit is reached.
func bisect(f func(float64) float64, a, b, whole, tol float64, depth int) float64 {
	m := a + (b-a)/2
	l, r := gauss(f, a, m), gauss(f, m, b)
	if depth >= 24 || math.Abs(l+r-whole) <= tol*(b-a) {
		return l + r
	}
	return bisect(f, a, m, l, tol, depth+1) + bisect(f, m, b, r, tol, depth+1)
}
