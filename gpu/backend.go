package gpu

import (
	"errors"
	"fmt"

	"conjure/operator"
	"conjure/sampler"
)

// ErrUnsupportedOp is returned by Backend.Prepare for an operator that is
// neither grouped (a Groups table) nor separable (Factors and Spectrum).
var ErrUnsupportedOp = errors.New("gpu: unsupported operator")

// Network is the network role ε_θ on the device: the GPU network executor,
// or in tests an adapter around a CPU network. Implementations must not
// retain dst, x or v, and may read them back or record work on the device
// that made them.
type Network interface {
	// Eps sets dst = ε(x, τ) and keeps what VJP needs.
	Eps(dst, x *Buffer, tau float64)
	// VJP sets dst = J_εᵀ v at the x and τ of the latest Eps call.
	VJP(dst, v *Buffer)
}

// Backend runs samplers on a Device: it implements sampler.Backend with
// Buffers as vectors, the kernels of package shaders for linear
// combinations and operators, and a Network for ε_θ.
//
// Its methods record work into the device's pending batch and return
// without waiting; Read and Dot submit the batch and wait. Since
// sampler.Backend has no error results, a device error (lost device, out of
// memory) panics with the wrapped error; the Backend is unusable after.
type Backend struct {
	d         *Device
	net       Network
	ops       map[operator.Operator]deviceOp
	scratches [numSlots]*Buffer
}

// deviceOp is an operator's tables or matrices on the device.
type deviceOp interface {
	apply(b *Backend, k operator.Kind, dst, src *Buffer) error
	gain(b *Backend, dst, src *Buffer, g func(s2 float64) float64) error
	destroy()
}

// Scratch buffers the Backend keeps between calls, one per role so that
// the roles of one call never share storage.
const (
	slotCombine  = iota // partial sums of a combination of > maxTerms vectors
	slotDot             // per-workgroup partial dot products
	slotPass            // L·X, between the two passes of a separable map
	slotSpectral        // U_hᵀ Y U_w in a gain
	slotBack            // its projection back, U_h(U_hᵀ Y U_w)U_wᵀ
	slotGain            // a separable gain's table
	numSlots
)

var _ sampler.Backend = (*Backend)(nil)

// kernels lists every kernel a Backend dispatches, compiled by NewBackend.
var kernels = []*kernel{combineFwd, dotFwd, groupedFwd, groupedAdj, groupedProj, matmulFwd, gainFwd}

// NewBackend returns a Backend on d whose network role is net. It compiles
// every kernel now, so that pipeline errors surface here rather than as
// panics mid-sampling.
func NewBackend(d *Device, net Network) (*Backend, error) {
	for _, k := range kernels {
		if _, err := d.pipeline(k); err != nil {
			return nil, err
		}
	}
	return &Backend{d: d, net: net, ops: map[operator.Operator]deviceOp{}}, nil
}

// Device returns the device the Backend runs on.
func (b *Backend) Device() *Device { return b.d }

// must panics with err, if any: see Backend for why.
func must(err error) {
	if err != nil {
		panic(err)
	}
}

// buffer returns v as a Buffer of this package, panicking otherwise.
func buffer(v sampler.Vec) *Buffer {
	c, ok := v.(*Buffer)
	if !ok {
		panic(fmt.Sprintf("gpu: vector of type %T is not from the GPU backend", v))
	}
	return c
}

// scratch returns the scratch buffer of slot with Len n, growing it if
// needed.
func (b *Backend) scratch(slot, n int) (*Buffer, error) {
	s := b.scratches[slot]
	if s == nil || 4*uint64(n) > s.size {
		if s != nil {
			if err := s.Destroy(); err != nil {
				return nil, err
			}
		}
		var err error
		if s, err = b.d.NewBuffer(n); err != nil {
			return nil, err
		}
		b.scratches[slot] = s
	}
	s.n = n
	return s, nil
}

// NewVec returns a zeroed vector of n elements.
func (b *Backend) NewVec(n int) sampler.Vec {
	v, err := b.d.NewBuffer(n)
	must(err)
	return v
}

// Write converts src to float32 and copies it into dst.
func (b *Backend) Write(dst sampler.Vec, src []float64) { must(buffer(dst).Write(src)) }

// Read submits the pending work, waits, and copies src into dst.
func (b *Backend) Read(dst []float64, src sampler.Vec) { must(buffer(src).Read(dst)) }

// Combine records dst = Σ cᵢ·vᵢ, the coefficients rounded to float32; dst
// may be one of the vᵢ.
func (b *Backend) Combine(dst sampler.Vec, terms ...sampler.Term) {
	must(b.combine(buffer(dst), terms...))
}

func (b *Backend) combine(dst *Buffer, terms ...sampler.Term) error {
	var tmp *Buffer
	if len(terms) > maxTerms {
		var err error
		if tmp, err = b.scratch(slotCombine, dst.n); err != nil {
			return err
		}
	}
	return b.d.combine(dst, tmp, terms)
}

// Dot returns ⟨x, y⟩: it submits the pending work and waits for the
// partial sums, which it adds in float64.
func (b *Backend) Dot(x, y sampler.Vec) float64 {
	u, v := buffer(x), buffer(y)
	if u.n != v.n {
		panic(fmt.Sprintf("gpu: dot of lengths %d and %d", u.n, v.n))
	}
	partial, err := b.scratch(slotDot, dotGroups)
	must(err)
	s, err := b.d.dot(u, v, partial)
	must(err)
	return s
}

// Prepare uploads what op needs on the device (its group tables or
// factor matrices), which Apply and Gain otherwise do on first use.
// It returns an error wrapping ErrUnsupportedOp for an operator that
// exposes neither Groups nor Factors and Spectrum. Prepared operators stay
// on the device, keyed by op, until Forget or Device.Close.
func (b *Backend) Prepare(op operator.Operator) error {
	_, err := b.prepare(op)
	return err
}

func (b *Backend) prepare(op operator.Operator) (deviceOp, error) {
	if o, ok := b.ops[op]; ok {
		return o, nil
	}
	var o deviceOp
	switch op := op.(type) {
	case grouper:
		g, err := newGrouped(b.d, op)
		if err != nil {
			return nil, err
		}
		o = g
	case factored:
		o = newSeparable(op)
	default:
		return nil, fmt.Errorf("%w: %T has neither Groups nor Factors", ErrUnsupportedOp, op)
	}
	b.ops[op] = o
	return o, nil
}

// Forget frees the device copies of op's tables or matrices.
func (b *Backend) Forget(op operator.Operator) {
	if o, ok := b.ops[op]; ok {
		o.destroy()
		delete(b.ops, op)
	}
}

// Apply records dst = map k of op applied to src (dst and src distinct).
func (b *Backend) Apply(op operator.Operator, k operator.Kind, dst, src sampler.Vec) {
	d, s := buffer(dst), buffer(src)
	checkMap(op, k, d, s)
	o, err := b.prepare(op)
	must(err)
	must(o.apply(b, k, d, s))
}

// Gain records dst = g(HHᵀ) src for op's H, g evaluated on the CPU in
// float64 at op's singular values.
func (b *Backend) Gain(op operator.Operator, dst, src sampler.Vec, g func(s2 float64) float64) {
	d, s := buffer(dst), buffer(src)
	if m := op.Out(); d.n != m || s.n != m || d == s {
		panic(fmt.Sprintf("gpu: gain of %T: dst %d and src %d values, want %d each, distinct", op, d.n, s.n, m))
	}
	o, err := b.prepare(op)
	must(err)
	must(o.gain(b, d, s, g))
}

// checkMap panics unless dst and src are distinct and have the lengths of
// map k of op.
func checkMap(op operator.Operator, k operator.Kind, dst, src *Buffer) {
	nSrc, nDst := operator.Dims(op, k)
	if dst.n != nDst || src.n != nSrc || dst == src {
		panic(fmt.Sprintf("gpu: %v of %T: dst %d and src %d values, want %d and %d, distinct", k, op, dst.n, src.n, nDst, nSrc))
	}
}

// Eps sets dst = ε(x, τ) with the backend's network.
func (b *Backend) Eps(dst, x sampler.Vec, tau float64) { b.net.Eps(buffer(dst), buffer(x), tau) }

// VJP sets dst = J_εᵀ v at the latest Eps.
func (b *Backend) VJP(dst, v sampler.Vec) { b.net.VJP(buffer(dst), buffer(v)) }

// sandwich records dst_c = L·src_c·Rᵀ for each of the c planar channels,
// L p×h and R q×w, in two matmul passes through a scratch buffer.
func (b *Backend) sandwich(dst, src *Buffer, c int, l, r matrix) error {
	p, h, q, w := l.rows, l.cols, r.rows, r.cols
	t, err := b.scratch(slotPass, c*p*w)
	if err != nil {
		return err
	}
	// t[c, i, j] = Σ_k L[i, k] src[c, k, j]
	first := separableParams{N: uint32(c * p * w), Rows: uint32(p), Cols: uint32(w), Inner: uint32(h),
		Sai: uint32(l.rs), Sat: uint32(l.cs), Sbb: uint32(h * w), Sbt: uint32(w), Sbj: 1}
	// dst[c, i, j] = Σ_k t[c, i, k] R[j, k]
	second := separableParams{N: uint32(c * p * q), Rows: uint32(p), Cols: uint32(q), Inner: uint32(w),
		Sab: uint32(p * w), Sai: uint32(w), Sat: 1, Sbt: uint32(r.cs), Sbj: uint32(r.rs)}
	for _, pass := range []struct {
		p         *separableParams
		out, a, b *Buffer
	}{{&first, t, l.buf, src}, {&second, dst, t, r.buf}} {
		g, err := b.d.grid(int(pass.p.N), matmulFwd.wg)
		if err != nil {
			return err
		}
		if err := dispatch(b.d, matmulFwd, g, pass.p, pass.out, pass.a, pass.b); err != nil {
			return err
		}
	}
	return nil
}
