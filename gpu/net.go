package gpu

import (
	"fmt"

	"conjure/model"
	"conjure/sampler"
)

// Net is the score network ε_θ of a model.Model on the device: the U-Net
// of docs/NETWORK.md as a sequence of kernel dispatches, in the block order
// of package model. It implements Network.
//
// NewNet uploads the weights and allocates every activation once; Eps and
// VJP only record dispatches and copies, and never read back (Eps's one
// upload submits the work recorded before it, as every Buffer.Write does). Eps keeps
// what VJP needs: each block's input and output, GroupNorm statistics, the
// ResBlocks' first conv outputs, and attention's qkv and softmax weights.
// The time embedding and every ResBlock's Linear(SiLU(temb)) depend on τ
// alone, so Eps computes them on the CPU in float32, exactly as package
// model does, and uploads them in one write, folded into the bias of each
// ResBlock's first conv.
//
// A Net evaluates a batch of samples at once (NewBatchNet), all at the
// same τ, each dispatch covering all of them: its inputs, outputs and
// activations are channel-major, [C][batch][H][W], which keeps a
// concatenation of channels one copy and a 1×1 conv one matrix product.
// One sample is the network's own layout.
//
// A Net is not safe for concurrent use.
type Net struct {
	d      *Device
	cfg    model.Config
	batch  int // the samples the buffers hold
	active int // the samples of the latest Eps, ≤ batch: its tensors are [C][active][H][W]
	steps  []*netStep

	// The τ-only terms, computed on the CPU exactly as package model does,
	// and a ResBlock's projection of them.
	time *model.TimeTerms
	proj []float32
	// tbias holds, for every ResBlock at its conv1's boff, conv1's bias
	// plus Linear(SiLU(temb)) of the latest Eps; host is its CPU image.
	tbias *Buffer
	host  []float64

	// Scratch shared by the blocks, each of the largest activation.
	a, s, o, t1, t2 *Buffer
	g               [2]*Buffer // the gradient, ping-ponged between blocks
	dqkv, ds        *Buffer
	owned           []*Buffer // every buffer to destroy
	allocated       int       // float32 values of the buffers alloc made
	largest         int       // float32 values of the largest of them
	ready           bool      // Eps has run
}

// netStep is one block of the U-Net with its parameters and the
// activations it keeps for the VJP.
type netStep struct {
	model.Block // kind, widths, sizes and skip connections

	in    *Buffer // the input: the previous output or cat (nil for conv_in)
	prev  *Buffer // the previous output, h, when pop ≥ 0
	cat   *Buffer // concat(h, skip), when pop ≥ 0
	out   *Buffer // the output (nil for the last step, which writes Eps's dst)
	dskip *Buffer // gradient reaching out through the skip connection, when pushed

	// Parameters: c1 is the block's conv (conv_in, down, up, conv_out), a
	// ResBlock's conv1 or attention's qkv; c2 a ResBlock's conv2 or
	// attention's out; skip a ResBlock's Conv1×1 skip; n1, n2 the norms.
	c1, c2, skip *convWeights
	n1, n2       *norm
	cb           []float32 // a ResBlock's conv1 bias

	stats1, stats2 *Buffer // GroupNorm mean and 1/std per group and sample
	h1             *Buffer // a ResBlock's conv1 output (plus temb), GN₂'s input
	qkv, probs     *Buffer // attention's input and softmax weights
}

var _ Network = (*Net)(nil)

// netSteps returns the U-Net's blocks for c in package model's order.
func netSteps(c model.Config) []*netStep {
	bs := c.Blocks()
	ss := make([]*netStep, len(bs))
	for i, b := range bs {
		ss[i] = &netStep{Block: b}
	}
	return ss
}

// NewNet uploads the int8 model m to d (an F32 model is refused: quantize
// it first with model.Quantize, the shipped path) and allocates every
// activation, compiling the network's kernels now so that their errors
// surface here.
func NewNet(d *Device, m *model.Model) (*Net, error) { return NewBatchNet(d, m, 1) }

// NewBatchNet is NewNet for batches of batch samples. Attention runs on
// one sample at a time, so a model with attention takes batch 1 only (such
// a model is framed, never tiled).
func NewBatchNet(d *Device, m *model.Model, batch int) (*Net, error) {
	cfg := m.Config()
	if batch < 1 || batch > 1 && !cfg.Local() {
		return nil, fmt.Errorf("gpu: a batch of %d samples for a model with attention (it takes 1)", batch)
	}
	for _, k := range netKernels {
		if _, err := d.pipeline(k); err != nil {
			return nil, err // "gpu: create pipeline …"
		}
	}
	n := &Net{d: d, cfg: cfg, batch: batch, steps: netSteps(cfg)}
	if err := n.build(m); err != nil {
		n.Destroy()
		return nil, err // "gpu: upload <tensor>: …" or "gpu: create buffer …"
	}
	return n, nil
}

// build uploads the parameters and allocates the buffers of every step.
func (n *Net) build(m *model.Model) error {
	param := func(name string) ([]float32, error) {
		t, ok := m.Tensor(name)
		if !ok {
			return nil, fmt.Errorf("gpu: upload %s: no such parameter in the model", name)
		}
		return t.Data, nil
	}
	var err error
	G := n.cfg.Groups
	n.time = m.NewTimeTerms()
	// The τ-dependent biases: one slot of cout per ResBlock.
	nb, widest := 0, 0
	for _, s := range n.steps {
		if s.Kind == model.Res {
			nb += s.Cout
			widest = max(widest, s.Cout)
		}
	}
	n.proj = make([]float32, widest)
	if n.tbias, err = n.alloc(nb); err != nil {
		return err
	}
	n.host = make([]float64, nb)
	var act, qkv, probs int
	boff := 0
	B := n.batch
	for i, s := range n.steps {
		N, No := B*s.Res*s.Res, B*s.OutRes()*s.OutRes() // pixels of the batch
		act = max(act, s.Cin*N, s.Cout*No)
		if i > 0 {
			s.in = n.steps[i-1].out
		}
		if s.Pop >= 0 {
			if s.cat, err = n.alloc(s.Cin * N); err != nil {
				return err
			}
			s.prev, s.in = s.in, s.cat
		}
		if i < len(n.steps)-1 {
			if s.out, err = n.alloc(s.Cout * No); err != nil {
				return err
			}
		}
		if s.Push {
			if s.dskip, err = n.alloc(s.Cout * No); err != nil {
				return err
			}
		}
		switch s.Kind {
		case model.ConvIn, model.Down, model.Up:
			s.c1, err = n.conv(m, s.Name, nil, 0)
		case model.Res:
			if s.cb, err = param(s.Name + ".conv1.bias"); err != nil {
				return err
			}
			if s.c1, err = n.conv(m, s.Name+".conv1", n.tbias, boff); err != nil {
				return err
			}
			boff += s.Cout
			if s.c2, err = n.conv(m, s.Name+".conv2", nil, 0); err != nil {
				return err
			}
			if s.Cin != s.Cout {
				if s.skip, err = n.conv(m, s.Name+".skip", nil, 0); err != nil {
					return err
				}
			}
			if s.n1, err = n.norm(m, s.Name+".norm1"); err != nil {
				return err
			}
			if s.n2, err = n.norm(m, s.Name+".norm2"); err != nil {
				return err
			}
			if s.stats2, err = n.alloc(2 * G * B); err != nil {
				return err
			}
			s.h1, err = n.alloc(s.Cout * N)
		case model.Attn:
			qkv, probs = max(qkv, 3*s.Cin*N), max(probs, n.cfg.Heads*N*N)
			if s.c1, err = n.conv(m, s.Name+".qkv", nil, 0); err != nil {
				return err
			}
			if s.c2, err = n.conv(m, s.Name+".out", nil, 0); err != nil {
				return err
			}
			if s.n1, err = n.norm(m, s.Name+".norm"); err != nil {
				return err
			}
			if s.qkv, err = n.alloc(3 * s.Cin * N); err != nil {
				return err
			}
			s.probs, err = n.alloc(n.cfg.Heads * N * N)
		case model.Out:
			if s.c1, err = n.conv(m, "conv_out", nil, 0); err != nil {
				return err
			}
			s.n1, err = n.norm(m, "norm_out")
		}
		if err != nil {
			return err
		}
		if s.n1 != nil {
			if s.stats1, err = n.alloc(2 * G * B); err != nil {
				return err
			}
		}
	}
	for _, b := range []**Buffer{&n.a, &n.s, &n.o, &n.t1, &n.t2, &n.g[0], &n.g[1]} {
		if *b, err = n.alloc(act); err != nil {
			return err
		}
	}
	if n.dqkv, err = n.alloc(qkv); err != nil {
		return err
	}
	n.ds, err = n.alloc(probs)
	return err
}

// alloc returns a zeroed buffer of k float32 that the Net owns.
func (n *Net) alloc(k int) (*Buffer, error) {
	b, err := n.d.NewBuffer(k)
	if err != nil {
		return nil, err
	}
	n.owned = append(n.owned, b)
	n.allocated += k
	n.largest = max(n.largest, k)
	return b, nil
}

// activationFloats returns the float32 values of one sample's activations
// and scratch in a Net of config c, what build allocates per sample of
// the batch (all of it but the τ biases), and those of its largest buffer.
func activationFloats(c model.Config) (total, largest int) {
	var act, qkv, probs int
	bs := c.Blocks()
	for i, b := range bs {
		N, No := b.Res*b.Res, b.OutRes()*b.OutRes()
		act = max(act, b.Cin*N, b.Cout*No)
		if b.Pop >= 0 {
			total += b.Cin * N // cat
		}
		if i < len(bs)-1 {
			total += b.Cout * No // out
		}
		if b.Push {
			total += b.Cout * No // dskip
		}
		switch b.Kind {
		case model.Res:
			total += 2*c.Groups + b.Cout*N // stats2, h1
		case model.Attn:
			total += 3*b.Cin*N + c.Heads*N*N // qkv, probs
			qkv, probs = max(qkv, 3*b.Cin*N), max(probs, c.Heads*N*N)
		}
		if b.Kind == model.Res || b.Kind == model.Attn || b.Kind == model.Out {
			total += 2 * c.Groups // stats1
		}
	}
	// a, s, o, t1, t2, g[0], g[1]; dqkv, ds. Every other buffer is one
	// block's input or output, at most act.
	return total + 7*act + qkv + probs, max(act, qkv, probs)
}

// conv uploads conv name of m; a non-nil bias replaces its bias by the
// slot at boff of that buffer.
func (n *Net) conv(m *model.Model, name string, bias *Buffer, boff int) (*convWeights, error) {
	c, err := newConvWeights(n.d, m, name, bias == nil)
	if err != nil {
		return nil, err
	}
	n.owned = append(n.owned, c.fwd, c.vjp, c.scale)
	if bias == nil {
		n.owned = append(n.owned, c.bias)
	} else {
		c.bias, c.boff = bias, boff
	}
	return c, nil
}

// norm uploads GroupNorm name of m.
func (n *Net) norm(m *model.Model, name string) (*norm, error) {
	nm, err := newNorm(n.d, m, name)
	if err != nil {
		return nil, err
	}
	n.owned = append(n.owned, nm.gamma, nm.beta)
	return nm, nil
}

// Destroy frees the Net's device memory; it must not be used afterwards.
func (n *Net) Destroy() {
	for _, b := range n.owned {
		b.Destroy()
	}
	n.owned = nil
}

// Dim returns the length of x and ε: InChannels·batch·Resolution².
func (n *Net) Dim() int { return n.cfg.InChannels * n.batch * n.cfg.Resolution * n.cfg.Resolution }

// Eps records dst = ε_θ(x, τ). Device errors panic, as Backend's do.
func (n *Net) Eps(dst, x *Buffer, tau float64) {
	if dst.n != n.Dim() || x.n != n.Dim() || dst == x {
		panic(fmt.Sprintf("gpu: Net.Eps: dst %d and x %d values, want %d each, distinct", dst.n, x.n, n.Dim()))
	}
	must(n.eps(dst, x, tau, n.batch))
	n.ready = true
}

// eps records Eps on the first count samples of the batch, stored
// compactly, [C][count][H][W], at the start of x and dst (a TiledNet's
// partial batch).
func (n *Net) eps(dst, x *Buffer, tau float64, count int) error {
	n.active = count
	n.embed(tau)
	if err := n.tbias.Write(n.host); err != nil {
		return fmt.Errorf("gpu: Net.Eps: upload time biases: %w", err)
	}
	for _, s := range n.steps {
		in, out := s.in, s.out
		if s.Kind == model.ConvIn {
			in = x
		}
		if out == nil {
			out = dst
		}
		if err := n.forward(s, out, in); err != nil {
			return fmt.Errorf("gpu: Net.Eps: %s: %w", s.Name, err)
		}
	}
	return nil
}

// forward records step s from input in to out, first assembling a
// concatenated input from the previous output and the popped skip.
func (n *Net) forward(s *netStep, out, in *Buffer) error {
	B, G, R := n.active, n.cfg.Groups, s.Res
	N := R * R
	BN := B * N
	if s.Pop >= 0 {
		skip := n.steps[s.Pop]
		c0 := s.Cin - skip.Cout
		if err := n.d.copyRange(s.cat, 0, s.prev, 0, c0*BN); err != nil {
			return err
		}
		if err := n.d.copyRange(s.cat, c0*BN, skip.out, 0, skip.Cout*BN); err != nil {
			return err
		}
	}
	switch s.Kind {
	case model.ConvIn:
		return n.d.conv3x3(s.c1, out, in, nil, B, R, R, 1, false)
	case model.Down:
		return n.d.conv3x3(s.c1, out, in, nil, B, R, R, 2, false)
	case model.Up:
		return n.d.conv3x3(s.c1, out, in, nil, B, R, R, 1, true)
	case model.Res:
		return n.resFwd(s, out, in)
	case model.Attn: // batch 1 (NewBatchNet)
		return firstErr(
			func() error { return n.d.groupNorm(s.n1, n.a, s.stats1, in, s.Cin, 1, N, G, false) },
			func() error { return n.d.conv1x1(s.c1, s.qkv, n.a, nil, N) },
			func() error { return n.d.attention(n.o, s.probs, s.qkv, s.Cin, N, n.cfg.Heads) },
			func() error { return n.d.conv1x1(s.c2, out, n.o, in, N) })
	default: // model.Out
		return firstErr(
			func() error { return n.d.groupNorm(s.n1, n.a, s.stats1, in, s.Cin, B, N, G, true) },
			func() error { return n.d.conv3x3(s.c1, out, n.a, nil, B, R, R, 1, false) })
	}
}

// resFwd records a ResBlock: h = conv1(SiLU(GN₁(x))) + temb term (in
// conv1's bias); out = conv2(SiLU(GN₂(h))) + skip(x).
func (n *Net) resFwd(s *netStep, out, in *Buffer) error {
	B, G, R := n.active, n.cfg.Groups, s.Res
	N := R * R
	res := in
	return firstErr(
		func() error { return n.d.groupNorm(s.n1, n.a, s.stats1, in, s.Cin, B, N, G, true) },
		func() error { return n.d.conv3x3(s.c1, s.h1, n.a, nil, B, R, R, 1, false) },
		func() error { return n.d.groupNorm(s.n2, n.a, s.stats2, s.h1, s.Cout, B, N, G, true) },
		func() error {
			if s.skip == nil {
				return nil
			}
			res = n.s
			return n.d.conv1x1(s.skip, n.s, in, nil, B*N)
		},
		func() error { return n.d.conv3x3(s.c2, out, n.a, res, B, R, R, 1, false) })
}

// firstErr runs fs in order and returns the first error.
func firstErr(fs ...func() error) error {
	for _, f := range fs {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// VJP records dst = J_εᵀ v at the x and τ of the latest Eps. It runs the
// blocks backwards; a skip connection's gradient, split off a
// concatenated input's gradient, is added to the gradient of the output
// it copied. Device errors panic, as Backend's do.
func (n *Net) VJP(dst, v *Buffer) {
	if !n.ready {
		panic("gpu: Net.VJP before Eps")
	}
	if dst.n != n.Dim() || v.n != n.Dim() || dst == v {
		panic(fmt.Sprintf("gpu: Net.VJP: dst %d and v %d values, want %d each, distinct", dst.n, v.n, n.Dim()))
	}
	must(n.vjp(dst, v))
}

func (n *Net) vjp(dst, v *Buffer) error {
	g := v
	for i := len(n.steps) - 1; i >= 0; i-- {
		s := n.steps[i]
		if s.dskip != nil {
			// The consumer of this output, later in the forward pass, has
			// already stored its part of the gradient in dskip.
			k := s.Cout * n.active * s.OutRes() * s.OutRes()
			gv := view(g, k)
			if err := n.d.combine(gv, nil, []sampler.Term{{C: 1, V: gv}, {C: 1, V: view(s.dskip, k)}}); err != nil {
				return fmt.Errorf("gpu: Net.VJP: %s: %w", s.Name, err)
			}
		}
		// g is the gradient of step i+1's input, so the ping-pong gives
		// dx a buffer other than g.
		dx := n.g[i%2]
		if i == 0 {
			dx = dst
		}
		if err := n.backward(s, dx, g); err != nil {
			return fmt.Errorf("gpu: Net.VJP: %s: %w", s.Name, err)
		}
		g = dx
	}
	return nil
}

// backward records dx = the gradient of step s's input given g, the
// gradient of its output, and for a concatenated input moves the skip's
// part of dx into the popped step's dskip.
func (n *Net) backward(s *netStep, dx, g *Buffer) error {
	B, G, R := n.active, n.cfg.Groups, s.Res
	N := R * R
	var err error
	switch s.Kind {
	case model.ConvIn:
		err = n.d.conv3x3VJP(s.c1, dx, g, B, R, R, 1, false)
	case model.Down:
		err = n.d.conv3x3VJP(s.c1, dx, g, B, R, R, 2, false)
	case model.Up:
		err = n.d.conv3x3VJP(s.c1, dx, g, B, R, R, 1, true)
	case model.Res:
		// The temb term does not depend on x: the gradient passes it.
		add := g
		err = firstErr(
			func() error { return n.d.conv3x3VJP(s.c2, n.t1, g, B, R, R, 1, false) },
			func() error { return n.d.groupNormVJP(s.n2, n.t2, s.stats2, s.h1, n.t1, nil, s.Cout, B, N, G, true) },
			func() error { return n.d.conv3x3VJP(s.c1, n.t1, n.t2, B, R, R, 1, false) },
			func() error {
				if s.skip == nil {
					return nil
				}
				add = n.s
				return n.d.conv1x1VJP(s.skip, n.s, g, B*N)
			},
			func() error { return n.d.groupNormVJP(s.n1, dx, s.stats1, s.in, n.t1, add, s.Cin, B, N, G, true) })
	case model.Attn: // batch 1 (NewBatchNet)
		err = firstErr(
			func() error { return n.d.conv1x1VJP(s.c2, n.t1, g, N) },
			func() error { return n.d.attentionVJP(n.dqkv, n.ds, n.t1, s.qkv, s.probs, s.Cin, N, n.cfg.Heads) },
			func() error { return n.d.conv1x1VJP(s.c1, n.t2, n.dqkv, N) },
			func() error { return n.d.groupNormVJP(s.n1, dx, s.stats1, s.in, n.t2, g, s.Cin, 1, N, G, false) })
	default: // model.Out
		err = firstErr(
			func() error { return n.d.conv3x3VJP(s.c1, n.t1, g, B, R, R, 1, false) },
			func() error { return n.d.groupNormVJP(s.n1, dx, s.stats1, s.in, n.t1, nil, s.Cin, B, N, G, true) })
	}
	if err != nil || s.Pop < 0 {
		return err
	}
	k := n.steps[s.Pop].Cout * B * N // the skip's part: dx's last channels
	return n.d.copyRange(n.steps[s.Pop].dskip, 0, dx, s.Cin*B*N-k, k)
}

// view returns the first k elements of b as a Buffer sharing its storage,
// for the kernels that take their length from the Buffer (combine). It
// must not be destroyed.
func view(b *Buffer, k int) *Buffer {
	return &Buffer{d: b.d, buf: b.buf, n: k, size: b.size}
}

// copyRange records the copy of k elements of src from srcOff to dst at
// dstOff into the pending batch, after the dispatches recorded so far.
func (d *Device) copyRange(dst *Buffer, dstOff int, src *Buffer, srcOff, k int) error {
	if err := d.copyEncoder(); err != nil {
		return err
	}
	if err := d.enc.CopyBufferToBuffer(src.buf, 4*uint64(srcOff), dst.buf, 4*uint64(dstOff), 4*uint64(k)); err != nil {
		return fmt.Errorf("gpu: copy %d float32: %w", k, err)
	}
	return nil
}

// embed fills host with every ResBlock's conv1 bias plus
// Linear(SiLU(temb(τ))), computed by model.TimeTerms exactly as package
// model's Runner computes them.
func (n *Net) embed(tau float64) {
	act := n.time.Embed(tau)
	for _, s := range n.steps {
		if s.Kind != model.Res {
			continue
		}
		proj := n.proj[:s.Cout]
		n.time.Project(proj, act, s.Name)
		for o, v := range proj {
			n.host[s.c1.boff+o] = float64(s.cb[o] + v)
		}
	}
}
