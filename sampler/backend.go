package sampler

import "conjure/operator"

// Vec is a vector that lives on a Backend: a []float64 on the CPU, a storage
// buffer on the GPU. Only the Backend that made it may use it.
type Vec interface {
	// Len returns the number of elements.
	Len() int
}

// Term is one summand c·v of a linear combination.
type Term struct {
	C float64
	V Vec
}

// Backend is what a sampler needs from the machine it runs on: vectors, their
// linear combinations, the degradation operator, and the network ε_θ with its
// vector–Jacobian product. Scalars stay in float64 on the CPU; the backend
// may compute in lower precision.
//
// Implementations must not retain the []float64 slices passed to Write or
// Read. Vectors passed to one call may alias each other only where a method
// says so.
type Backend interface {
	// NewVec returns a zeroed vector of n elements.
	NewVec(n int) Vec
	// Write copies src into dst; len(src) must equal dst.Len().
	Write(dst Vec, src []float64)
	// Read copies src into dst; len(dst) must equal src.Len().
	Read(dst []float64, src Vec)
	// Combine sets dst = Σ cᵢ·vᵢ elementwise. dst may be one of the vᵢ.
	Combine(dst Vec, terms ...Term)
	// Dot returns ⟨a, b⟩. On a GPU it reads back to the CPU: samplers use it
	// only where the method itself needs a scalar (DPS).
	Dot(a, b Vec) float64
	// Apply sets dst to map k of op applied to src (dst and src distinct).
	Apply(op operator.Operator, k operator.Kind, dst, src Vec)
	// Gain sets dst = g(HHᵀ) src for op's H (operator.Operator's Gain); a
	// GPU evaluates g on the CPU, in float64, at op's singular values.
	Gain(op operator.Operator, dst, src Vec, g func(s2 float64) float64)
	// Eps sets dst = ε_θ(x, τ) and keeps what VJP needs.
	Eps(dst, x Vec, tau float64)
	// VJP sets dst = J_εᵀ v, the vector–Jacobian product of ε_θ at the x
	// and τ of the latest Eps call. v is held constant (no gradient flows
	// through it).
	VJP(dst, v Vec)
}
