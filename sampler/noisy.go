package sampler

import (
	"math"

	"gonum.org/v1/gonum/integrate/quad"
)

// NoisyFold is one step of C-ΠGDM for a noisy measurement y = Hx + σ_y·n,
// with the conjugate map taken exactly in H's singular basis (see
// docs/NOISY.md). ΠGDM's noisy likelihood with r² = σ_τ² turns the
// projector P of the noiseless ODE (ALGORITHM.md §3.1) into the soft
// projector Π_τ = V diag(π) Vᵀ, π = σ_τ²s²/(σ_τ²s² + σ_y²), one factor per
// singular value s. All Π_τ share H's singular vectors, so the conjugate map
// A_τ = exp(c₁ + c₂(s)) with c₂ = −(w/2)∫₀^τ βπ is diagonal there and is
// inverted exactly, and each singular value gets its own folded
// coefficients. Per step:
//
//	x' = AQ·x + BQ·ε + GQ·g + Hᵀ[X(HHᵀ)·Hx + E(HHᵀ)·Hε + G(HHᵀ)·Hg + Y(HHᵀ)·y]
//
// with g = J_εᵀ Π_τ(H†y − x̂₀) and AQ, BQ, GQ the noiseless fold's null-space
// part. The gains X, E, G, Y are each coefficient's excess over the null
// space, divided by s² (so Hᵀ·gain·H applies it in the range). As σ_y → 0
// the step becomes the noiseless folded step.
type NoisyFold struct {
	Null Fold // AQ, BQ, GQ: the step on the null space of H (s = 0)

	w, sigmaY2 float64
	// The step's end points, each a node of the coefficient integrals: b
	// and σ² at τ_i and τ_{i+1}, the explicit Euler factor of λ and the
	// null-space map ratio e^{c₁(τ_i) − c₁(τ_{i+1})}.
	ba, sa2, bb, sb2 float64
	euler, r0a       float64
	nodes            []noisyNode
	// table holds the four excesses of coefficients on a uniform grid in
	// t = ln κ, so that a gain costs an interpolation instead of a
	// quadrature per singular value (there is one per pixel for a blur).
	table [][4]float64
}

// The coefficient table spans κ = s²/σ_y² from e^{−32} to e^{32}; beyond
// it the excesses times (1 + κ)/κ are constant to 1e-13. Four-point
// Lagrange interpolation on steps of 1/96 reproduces the quadrature to
// 1e-9 (TestNoisyTable).
const (
	tableLo    = -32.0
	tablePerLn = 96
	tableLen   = 64*tablePerLn + 1
)

// noisyNode is one quadrature node u of a step, with what every singular
// value's integrands share there.
type noisyNode struct {
	weight      float64 // quadrature weight of ∫_{τ_i}^{τ_{i+1}} du
	beta, mu, s float64 // β, μ, σ at u
	b, s2       float64 // b(u), σ²
	r0          float64 // e^{c₁(u) − c₁(τ_{i+1})}
}

// noisyNodes is the Gauss–Legendre rule of each step, in t = √τ: the
// integrands carry 1/σ_τ ∝ τ^{-1/2} near 0, smooth in t. TestNoisyQuadrature
// checks it against adaptive quadrature to 1e-11.
const noisyNodes = 24

// NoisyPlan returns the NoisyFold of every step of grid for guidance w,
// λ and measurement noise sigmaY > 0.
func NoisyPlan(grid []float64, w, lambda, sigmaY float64) []NoisyFold {
	null := CPiGDMPlan(grid, w, lambda)
	xs, ws := make([]float64, noisyNodes), make([]float64, noisyNodes)
	plan := make([]NoisyFold, len(null))
	for i := range plan {
		a, b := grid[i], grid[i+1]
		f := NoisyFold{Null: null[i], w: w, sigmaY2: sigmaY * sigmaY,
			ba: IntBeta(a), sa2: -math.Expm1(-IntBeta(a)), bb: IntBeta(b), sb2: -math.Expm1(-IntBeta(b)),
			euler: 1 + lambda*(b-a), r0a: math.Exp(logE1(a, lambda) - logE1(b, lambda))}
		quad.Legendre{}.FixedLocations(xs, ws, math.Sqrt(b), math.Sqrt(a))
		f.nodes = make([]noisyNode, noisyNodes)
		for k, t := range xs {
			u := t * t
			f.nodes[k] = noisyNode{
				weight: -ws[k] * 2 * t, // du = 2t dt, and the step runs from a down to b
				beta:   Beta(u), mu: Mu(u), s: Sigma(u), b: IntBeta(u), s2: -math.Expm1(-IntBeta(u)),
				r0: math.Exp(logE1(u, lambda) - logE1(b, lambda)),
			}
		}
		f.table = make([][4]float64, tableLen)
		for k := range f.table {
			kappa := math.Exp(tableLo + float64(k)/tablePerLn)
			dx, de, dg, cy := f.coefficients(kappa * f.sigmaY2)
			scale := (1 + kappa) / kappa
			f.table[k] = [4]float64{dx * scale, de * scale, dg * scale, cy * scale}
		}
		plan[i] = f
	}
	return plan
}

// softK returns ∫₀^τ β π for κ = s²/σ_y² from b = b(τ) and s2 = σ_τ²:
// (κb − log(1 + κσ²))/(1 + κ), which is 0 on the null space and b as
// σ_y → 0.
func softK(kappa, b, s2 float64) float64 { return (kappa*b - math.Log1p(kappa*s2)) / (1 + kappa) }

// coefficients returns the step's folded coefficients on the singular
// direction with squared singular value s2 > 0, each minus its null-space
// value: dx for x, de for ε, dg for g, and cy for H†y (0 on the null
// space).
func (f *NoisyFold) coefficients(s2 float64) (dx, de, dg, cy float64) {
	kappa := s2 / f.sigmaY2
	kb := softK(kappa, f.bb, f.sb2)
	half := f.w / 2
	dx = f.euler * f.r0a * math.Expm1(-half*(softK(kappa, f.ba, f.sa2)-kb))
	for _, n := range f.nodes {
		e := math.Expm1(-half * (softK(kappa, n.b, n.s2) - kb)) // A(u)/A(τ_{i+1}) = r0·(1 + e)
		r := n.r0 * (1 + e)
		pi := n.s2 * kappa / (n.s2*kappa + 1)
		wb := n.weight * n.beta / 2
		de += wb * (n.r0*e/n.s - f.w*n.s*pi*r)
		dg += wb * f.w * n.mu * n.s * n.r0 * e
		cy -= wb * f.w * n.mu * pi * r
	}
	return dx, de, dg, cy
}

// Gains returns the step's four gains of s² (see NoisyFold): the
// excesses of coefficients divided by s², interpolated from the table, and
// 0 at s² = 0, where Hᵀ and H vanish anyway.
func (f *NoisyFold) Gains() (x, e, g, y func(s2 float64) float64) {
	pick := func(k int) func(float64) float64 {
		return func(s2 float64) float64 {
			if s2 == 0 {
				return 0
			}
			kappa := s2 / f.sigmaY2
			return f.interpolate(math.Log(kappa), k) / ((1 + kappa) * f.sigmaY2)
		}
	}
	return pick(0), pick(1), pick(2), pick(3)
}

// interpolate returns the table's column k at t = ln κ by four-point
// Lagrange interpolation, constant beyond the table's ends.
func (f *NoisyFold) interpolate(t float64, k int) float64 {
	u := (t - tableLo) * tablePerLn
	if u <= 0 {
		return f.table[0][k]
	}
	if u >= tableLen-1 {
		return f.table[tableLen-1][k]
	}
	j := min(max(int(u)-1, 0), tableLen-4) // nodes j … j+3 around u
	p := u - float64(j)
	v := func(n int) float64 { return f.table[j+n][k] }
	return -v(0)*(p-1)*(p-2)*(p-3)/6 + v(1)*p*(p-2)*(p-3)/2 - v(2)*p*(p-1)*(p-3)/2 + v(3)*p*(p-1)*(p-2)/6
}
