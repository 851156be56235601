package operator

import "math"

// Operator is a linear map H from images (length In) to measurements
// (length Out), with the operations the samplers need.
//
// Implementations must not retain dst or the source slices.
type Operator interface {
	// In returns d, the length of an image x.
	In() int
	// Out returns m, the length of a measurement y.
	Out() int
	// Forward sets dst (length m) to H x.
	Forward(dst, x []float64)
	// Adjoint sets dst (length d) to Hᵀ y.
	Adjoint(dst, y []float64)
	// Pinv sets dst (length d) to H† y.
	Pinv(dst, y []float64)
	// Project sets dst (length d) to P x = H†H x.
	Project(dst, x []float64)
	// Gain sets dst (length m) to g(HHᵀ) y, computed in the spectral basis
	// of H: each component of y along a left singular vector with singular
	// value s is multiplied by g(s²), and the part of y outside their span
	// (where HHᵀ is 0) by g(0). g must return finite values.
	Gain(dst, y []float64, g func(s2 float64) float64)
}

// Kind names one of an Operator's linear maps, so that a backend can apply
// it by name.
type Kind int

// The maps of an Operator.
const (
	Forward Kind = iota
	Adjoint
	Pinv
	Project
)

// String returns the map's name, e.g. "H†".
func (k Kind) String() string {
	switch k {
	case Forward:
		return "H"
	case Adjoint:
		return "Hᵀ"
	case Pinv:
		return "H†"
	case Project:
		return "P"
	}
	return "Kind(?)"
}

// Apply applies the map k of op to src, writing dst.
func Apply(op Operator, k Kind, dst, src []float64) {
	switch k {
	case Forward:
		op.Forward(dst, src)
	case Adjoint:
		op.Adjoint(dst, src)
	case Pinv:
		op.Pinv(dst, src)
	case Project:
		op.Project(dst, src)
	default:
		panic("operator: unknown kind")
	}
}

// Dims returns the lengths of the source and destination of map k of op.
func Dims(op Operator, k Kind) (src, dst int) {
	switch k {
	case Forward:
		return op.In(), op.Out()
	case Adjoint, Pinv:
		return op.Out(), op.In()
	}
	return op.In(), op.In()
}

// NoisyGain returns the gain s² ↦ 1/(r2·s² + sigmaY2) whose Gain is
// (r2·HHᵀ + sigmaY2·I)⁻¹, the noisy inverse of ΠGDM's likelihood
// (ALGORITHM.md §2.2). Where the denominator is zero (a zero singular value
// with sigmaY2 = 0) the gain is 0, as for a pseudo-inverse. It panics if
// r2 or sigmaY2 is negative, infinite or NaN: those are programmer errors.
func NoisyGain(r2, sigmaY2 float64) func(s2 float64) float64 {
	if !(r2 >= 0 && r2 <= math.MaxFloat64 && sigmaY2 >= 0 && sigmaY2 <= math.MaxFloat64) {
		panic(errNoise)
	}
	return func(s2 float64) float64 {
		d := r2*s2 + sigmaY2
		if d == 0 {
			return 0
		}
		return 1 / d
	}
}
