package model

import (
	"fmt"
)

// Runner evaluates a Model: ε_θ(x, τ) and its vector–Jacobian product with
// respect to x. It implements cpu.Network.
//
// A Runner owns every activation buffer of the network, allocated once by
// NewRunner, and keeps the activations of its latest Eps call for VJP. It is
// not safe for concurrent use; the Model behind it is, so make one Runner
// per goroutine.
type Runner struct {
	cfg   Config
	time  *TimeTerms
	tact  []float32 // SiLU(temb) of the latest Eps, read by every ResBlock (4C)
	steps []step
	x, dy []float32 // float32 copies of Eps's x and VJP's v
	ready bool      // Eps has run
}

// layer is one block of the U-Net with its own activation buffers.
type layer interface {
	// forward returns the block's output for input x, keeping x and what
	// backward needs until the next forward.
	forward(x []float32) []float32
	// backward returns the gradient of the latest forward's input given dy,
	// the gradient of its output.
	backward(dy []float32) []float32
}

// step is a layer in the U-Net's sequence with its skip connections.
type step struct {
	layer
	pop   int       // index of the step whose output is concatenated after h, or -1
	cat   []float32 // the concatenated input, when pop ≥ 0
	out   []float32 // output of the latest forward
	dskip []float32 // gradient that reaches out through the skip connection, when pushed
}

// NewRunner returns a Runner for m. It allocates every activation and
// gradient buffer for Config.Resolution at once, a few tensors per block:
// about 160 MB for NETWORK.md's 64×64 example.
func (m *Model) NewRunner() *Runner {
	cfg := m.cfg.clone()
	C, dim := cfg.Channels, cfg.InChannels*cfg.Resolution*cfg.Resolution
	r := &Runner{
		cfg:  cfg,
		time: m.NewTimeTerms(),
		tact: make([]float32, 4*C),
		x:    make([]float32, dim),
		dy:   make([]float32, dim),
	}
	for _, b := range cfg.Blocks() {
		s := step{pop: b.Pop}
		p := func(suffix string) []float32 { return m.param(b.Name + suffix) }
		switch b.Kind {
		case ConvIn:
			s.layer = newConvLayer(p(".weight"), p(".bias"), b.Cin, b.Cout, b.Res, 1, false)
		case Down:
			s.layer = newConvLayer(p(".weight"), p(".bias"), b.Cin, b.Cout, b.Res, 2, false)
		case Up:
			s.layer = newConvLayer(p(".weight"), p(".bias"), b.Cin, b.Cout, b.Res, 1, true)
		case Res:
			s.layer = newResLayer(m, b, cfg.Groups, r.time, r.tact)
		case Attn:
			s.layer = newAttnLayer(m, b, cfg.Groups, cfg.Heads)
		case Out:
			s.layer = newGNConv(m.param("norm_out.weight"), m.param("norm_out.bias"),
				m.param("conv_out.weight"), m.param("conv_out.bias"), b.Cin, b.Cout, b.Res, cfg.Groups)
		}
		if b.Pop >= 0 {
			s.cat = make([]float32, b.Cin*b.Res*b.Res)
		}
		if b.Push {
			s.dskip = make([]float32, b.Cout*b.OutRes()*b.OutRes())
		}
		r.steps = append(r.steps, s)
	}
	return r
}

// Dim returns the length of x and ε: InChannels·Resolution².
func (r *Runner) Dim() int { return len(r.x) }

// Eps sets dst = ε_θ(x, τ) and keeps the activations VJP needs. x and dst
// are planar images of Dim() elements; they are rounded to float32 on the
// way in and widened on the way out.
func (r *Runner) Eps(dst, x []float64, tau float64) {
	if len(dst) != len(r.x) || len(x) != len(r.x) {
		panic(fmt.Sprintf("model: Eps: len(dst) = %d, len(x) = %d, want Dim() = %d", len(dst), len(x), len(r.x)))
	}
	for i, v := range x {
		r.x[i] = float32(v)
	}
	copy(r.tact, r.time.Embed(tau))
	h := r.x
	for i := range r.steps {
		s := &r.steps[i]
		if s.pop >= 0 {
			copy(s.cat, h)
			copy(s.cat[len(h):], r.steps[s.pop].out)
			h = s.cat
		}
		h = s.forward(h)
		s.out = h
	}
	for i, v := range h {
		dst[i] = float64(v)
	}
	r.ready = true
}

// VJP sets dst = J_εᵀ v = ∂⟨v, ε_θ(x, τ)⟩/∂x at the x and τ of the latest
// Eps call. It runs the blocks backwards; a skip connection's gradient is
// added to the gradient of the block output it copied.
func (r *Runner) VJP(dst, v []float64) {
	if !r.ready {
		panic("model: VJP before Eps")
	}
	if len(dst) != len(r.x) || len(v) != len(r.x) {
		panic(fmt.Sprintf("model: VJP: len(dst) = %d, len(v) = %d, want Dim() = %d", len(dst), len(v), len(r.x)))
	}
	for i, x := range v {
		r.dy[i] = float32(x)
	}
	g := r.dy
	for i := len(r.steps) - 1; i >= 0; i-- {
		s := &r.steps[i]
		if s.dskip != nil {
			// The consumer of this output, later in the forward pass, has
			// already stored its part of the gradient in dskip.
			for j, x := range g {
				s.dskip[j] += x
			}
			g = s.dskip
		}
		g = s.backward(g)
		if s.pop >= 0 {
			skip := r.steps[s.pop].dskip
			copy(skip, g[len(g)-len(skip):])
			g = g[:len(g)-len(skip)]
		}
	}
	for i, x := range g {
		dst[i] = float64(x)
	}
}

// convLayer is Conv3×3 with bias: conv_in (stride 1), a Downsample
// (stride 2), or an Upsample (nearest ×2 first).
type convLayer struct {
	w, b                      []float32
	cin, cout, side, stride   int
	up                        bool
	upsampled, dUpsampled, dx []float32 // the nearest ×2 input and its gradient (Upsample only)
	out                       []float32
}

func newConvLayer(w, b []float32, cin, cout, side, stride int, up bool) *convLayer {
	l := &convLayer{w: w, b: b, cin: cin, cout: cout, side: side, stride: stride, up: up}
	in := side
	if up {
		in = 2 * side
		l.upsampled = make([]float32, cin*in*in)
		l.dUpsampled = make([]float32, cin*in*in)
	}
	o := convOut(in, stride)
	l.out = make([]float32, cout*o*o)
	l.dx = make([]float32, cin*side*side)
	return l
}

func (l *convLayer) forward(x []float32) []float32 {
	if !l.up {
		conv3x3(l.out, x, l.w, l.b, l.cin, l.side, l.side, l.cout, l.stride)
		return l.out
	}
	upsample(l.upsampled, x, l.cin, l.side, l.side)
	conv3x3(l.out, l.upsampled, l.w, l.b, l.cin, 2*l.side, 2*l.side, l.cout, 1)
	return l.out
}

func (l *convLayer) backward(dy []float32) []float32 {
	if !l.up {
		conv3x3VJP(l.dx, dy, l.w, l.cin, l.side, l.side, l.cout, l.stride)
		return l.dx
	}
	conv3x3VJP(l.dUpsampled, dy, l.w, l.cin, 2*l.side, 2*l.side, l.cout, 1)
	upsampleVJP(l.dx, l.dUpsampled, l.cin, l.side, l.side)
	return l.dx
}

// gnConv is GroupNorm → SiLU → Conv3×3 (stride 1): each half of a
// ResBlock, and the output head norm_out, SiLU, conv_out.
type gnConv struct {
	gamma, beta, w, b       []float32
	cin, cout, side, groups int
	x                       []float32 // input of the latest forward
	norm                    []float32 // GroupNorm output, SiLU's input
	stats                   []float64 // GroupNorm mean and 1/std per group
	tmp                     []float32 // SiLU output in forward, its gradient in backward
	out, dx                 []float32
}

func newGNConv(gamma, beta, w, b []float32, cin, cout, side, groups int) *gnConv {
	n := side * side
	return &gnConv{
		gamma: gamma, beta: beta, w: w, b: b,
		cin: cin, cout: cout, side: side, groups: groups,
		norm:  make([]float32, cin*n),
		stats: make([]float64, 2*groups),
		tmp:   make([]float32, cin*n),
		out:   make([]float32, cout*n),
		dx:    make([]float32, cin*n),
	}
}

func (u *gnConv) forward(x []float32) []float32 {
	u.x = x
	groupNorm(u.norm, x, u.gamma, u.beta, u.stats, u.cin, u.side*u.side, u.groups)
	silu(u.tmp, u.norm)
	conv3x3(u.out, u.tmp, u.w, u.b, u.cin, u.side, u.side, u.cout, 1)
	return u.out
}

func (u *gnConv) backward(dy []float32) []float32 {
	conv3x3VJP(u.tmp, dy, u.w, u.cin, u.side, u.side, u.cout, 1)
	siluVJP(u.tmp, u.tmp, u.norm)
	groupNormVJP(u.dx, u.tmp, u.x, u.gamma, u.stats, u.cin, u.side*u.side, u.groups)
	return u.dx
}

// resLayer is a ResBlock(cin→cout): h = gnConv₁(x) + Linear(SiLU(temb));
// return skip(x) + gnConv₂(h), skip being Conv1×1 when cin ≠ cout.
type resLayer struct {
	u1, u2       *gnConv
	time         *TimeTerms // the Runner's, for the temb Linear
	name         string     // the block's parameter prefix
	sw, sb       []float32  // the skip Conv1×1, nil for the identity
	tact         []float32  // the Runner's SiLU(temb)
	tproj        []float32  // Linear(SiLU(temb)), added to every pixel of channel o
	cin, cout, n int
	x, out, dx   []float32
}

func newResLayer(m *Model, b Block, groups int, time *TimeTerms, tact []float32) *resLayer {
	p := func(suffix string) []float32 { return m.param(b.Name + suffix) }
	l := &resLayer{
		u1:   newGNConv(p(".norm1.weight"), p(".norm1.bias"), p(".conv1.weight"), p(".conv1.bias"), b.Cin, b.Cout, b.Res, groups),
		u2:   newGNConv(p(".norm2.weight"), p(".norm2.bias"), p(".conv2.weight"), p(".conv2.bias"), b.Cout, b.Cout, b.Res, groups),
		time: time, name: b.Name,
		tact: tact, tproj: make([]float32, b.Cout),
		cin: b.Cin, cout: b.Cout, n: b.Res * b.Res,
		out: make([]float32, b.Cout*b.Res*b.Res),
		dx:  make([]float32, b.Cin*b.Res*b.Res),
	}
	if b.Cin != b.Cout {
		l.sw, l.sb = p(".skip.weight"), p(".skip.bias")
	}
	return l
}

func (l *resLayer) forward(x []float32) []float32 {
	l.x = x
	h := l.u1.forward(x)
	l.time.Project(l.tproj, l.tact, l.name)
	for o, t := range l.tproj {
		for p := range l.n {
			h[o*l.n+p] += t
		}
	}
	h = l.u2.forward(h)
	if l.sw != nil {
		conv1x1(l.out, x, l.sw, l.sb, l.cin, l.n, l.cout)
	} else {
		copy(l.out, x)
	}
	for i, v := range h {
		l.out[i] += v
	}
	return l.out
}

func (l *resLayer) backward(dy []float32) []float32 {
	// The temb term does not depend on x: the gradient passes it unchanged.
	g := l.u1.backward(l.u2.backward(dy))
	if l.sw != nil {
		conv1x1VJP(l.dx, dy, l.sw, l.cin, l.n, l.cout)
	} else {
		copy(l.dx, dy)
	}
	for i, v := range g {
		l.dx[i] += v
	}
	return l.dx
}

// attnLayer is Attention(ch): return x + Conv1×1(attention(Conv1×1(GN(x)))).
type attnLayer struct {
	gamma, beta, qw, qb, ow, ob []float32
	ch, n, groups, heads        int
	x                           []float32 // input of the latest forward
	norm                        []float32 // GroupNorm output
	stats                       []float64 // GroupNorm mean and 1/std per group
	qkv, o, probs               []float32 // attention's input, output and softmax weights
	tmp                         []float32 // gradient of o, then of norm
	dqkv, ds, out, dx           []float32
}

func newAttnLayer(m *Model, b Block, groups, heads int) *attnLayer {
	p := func(suffix string) []float32 { return m.param(b.Name + suffix) }
	ch, n := b.Cin, b.Res*b.Res
	return &attnLayer{
		gamma: p(".norm.weight"), beta: p(".norm.bias"),
		qw: p(".qkv.weight"), qb: p(".qkv.bias"),
		ow: p(".out.weight"), ob: p(".out.bias"),
		ch: ch, n: n, groups: groups, heads: heads,
		norm:  make([]float32, ch*n),
		stats: make([]float64, 2*groups),
		qkv:   make([]float32, 3*ch*n),
		o:     make([]float32, ch*n),
		probs: make([]float32, heads*n*n),
		tmp:   make([]float32, ch*n),
		dqkv:  make([]float32, 3*ch*n),
		ds:    make([]float32, heads*n*n),
		out:   make([]float32, ch*n),
		dx:    make([]float32, ch*n),
	}
}

func (l *attnLayer) forward(x []float32) []float32 {
	l.x = x
	groupNorm(l.norm, x, l.gamma, l.beta, l.stats, l.ch, l.n, l.groups)
	conv1x1(l.qkv, l.norm, l.qw, l.qb, l.ch, l.n, 3*l.ch)
	attention(l.o, l.probs, l.qkv, l.ch, l.n, l.heads)
	conv1x1(l.out, l.o, l.ow, l.ob, l.ch, l.n, l.ch)
	for i, v := range x {
		l.out[i] += v
	}
	return l.out
}

func (l *attnLayer) backward(dy []float32) []float32 {
	conv1x1VJP(l.tmp, dy, l.ow, l.ch, l.n, l.ch)
	attentionVJP(l.dqkv, l.tmp, l.qkv, l.probs, l.ds, l.ch, l.n, l.heads)
	conv1x1VJP(l.tmp, l.dqkv, l.qw, l.ch, l.n, 3*l.ch)
	groupNormVJP(l.dx, l.tmp, l.x, l.gamma, l.stats, l.ch, l.n, l.groups)
	for i, v := range dy {
		l.dx[i] += v
	}
	return l.dx
}
