package cpu

import (
	"fmt"

	"conjure/operator"
	"conjure/sampler"
)

// Vec is the CPU vector type of Backend.
type Vec []float64

// Len returns the number of elements.
func (v Vec) Len() int { return len(v) }

// Backend runs samplers on the CPU with the network net.
type Backend struct {
	net Network
}

// New returns a Backend whose network role is net.
func New(net Network) *Backend { return &Backend{net: net} }

var _ sampler.Backend = (*Backend)(nil)

func vec(v sampler.Vec) Vec {
	c, ok := v.(Vec)
	if !ok {
		panic(fmt.Sprintf("cpu: vector of type %T is not from the CPU backend", v))
	}
	return c
}

func sameLen(a, b int) {
	if a != b {
		panic(fmt.Sprintf("cpu: length mismatch %d != %d", a, b))
	}
}

// NewVec returns a zeroed vector of n elements.
func (b *Backend) NewVec(n int) sampler.Vec { return make(Vec, n) }

// Write copies src into dst.
func (b *Backend) Write(dst sampler.Vec, src []float64) {
	d := vec(dst)
	sameLen(len(d), len(src))
	copy(d, src)
}

// Read copies src into dst.
func (b *Backend) Read(dst []float64, src sampler.Vec) {
	s := vec(src)
	sameLen(len(dst), len(s))
	copy(dst, s)
}

// Combine sets dst = Σ cᵢ·vᵢ; dst may be one of the vᵢ because every element
// is read before it is written.
func (b *Backend) Combine(dst sampler.Vec, terms ...sampler.Term) {
	d := vec(dst)
	vs := make([]Vec, len(terms))
	for k, t := range terms {
		vs[k] = vec(t.V)
		sameLen(len(d), len(vs[k]))
	}
	for i := range d {
		var s float64
		for k, t := range terms {
			s += t.C * vs[k][i]
		}
		d[i] = s
	}
}

// Dot returns ⟨a, b⟩.
func (b *Backend) Dot(x, y sampler.Vec) float64 {
	u, v := vec(x), vec(y)
	sameLen(len(u), len(v))
	var s float64
	for i := range u {
		s += u[i] * v[i]
	}
	return s
}

// Apply sets dst to map k of op applied to src.
func (b *Backend) Apply(op operator.Operator, k operator.Kind, dst, src sampler.Vec) {
	operator.Apply(op, k, vec(dst), vec(src))
}

// Gain sets dst = g(HHᵀ) src for op's H.
func (b *Backend) Gain(op operator.Operator, dst, src sampler.Vec, g func(s2 float64) float64) {
	op.Gain(vec(dst), vec(src), g)
}

// Eps sets dst = ε(x, τ) with the backend's network.
func (b *Backend) Eps(dst, x sampler.Vec, tau float64) { b.net.Eps(vec(dst), vec(x), tau) }

// VJP sets dst = J_εᵀ v at the latest Eps.
func (b *Backend) VJP(dst, v sampler.Vec) { b.net.VJP(vec(dst), vec(v)) }
