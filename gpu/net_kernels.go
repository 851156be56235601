package gpu

import (
	"fmt"
	"math"

	"github.com/cogentcore/webgpu/wgpu"

	"conjure/model"
)

// convParams mirrors struct Params of shaders/conv.wgsl.
type convParams struct {
	N, Cin, H, W   uint32
	Cout, Ho, Wo   uint32
	Stride, Up     uint32
	Residual, Boff uint32
	Pad0           uint32
}

// groupnormParams mirrors struct Params of shaders/groupnorm.wgsl.
type groupnormParams struct {
	C, N, Groups, Silu uint32
	Residual           uint32
	Pad0, Pad1, Pad2   uint32
}

// attentionParams mirrors struct Params of shaders/attention.wgsl.
type attentionParams struct {
	Ch, N, Heads, D uint32
	Scale           float32
	Total           uint32
	Pad0, Pad1      uint32
}

// The entry points of one file share its bindings: the VJPs of conv.wgsl
// bind dy as src and dummies for bias and res, the forward of
// groupnorm.wgsl dummies for dy and add, and so on.
var (
	convStorage      = []access{readWrite, readOnly, readOnly, readOnly, readOnly, readOnly}
	conv3x3Fwd       = &kernel{file: "conv.wgsl", entry: "conv3x3_fwd", wg: defaultWG, storage: convStorage, params: 48}
	conv3x3VJP       = &kernel{file: "conv.wgsl", entry: "conv3x3_vjp", wg: defaultWG, storage: convStorage, params: 48}
	conv1x1Fwd       = &kernel{file: "conv.wgsl", entry: "conv1x1_fwd", wg: defaultWG, storage: convStorage, params: 48}
	conv1x1VJP       = &kernel{file: "conv.wgsl", entry: "conv1x1_vjp", wg: defaultWG, storage: convStorage, params: 48}
	groupnormStorage = []access{readWrite, readWrite, readOnly, readOnly, readOnly, readOnly, readOnly}
	groupnormFwd     = &kernel{file: "groupnorm.wgsl", entry: "groupnorm_fwd", wg: defaultWG, storage: groupnormStorage, params: 32}
	groupnormVJP     = &kernel{file: "groupnorm.wgsl", entry: "groupnorm_vjp", wg: defaultWG, storage: groupnormStorage, params: 32}
	attentionStorage = []access{readWrite, readWrite, readOnly, readOnly, readOnly}
	attentionFwd     = &kernel{file: "attention.wgsl", entry: "attention_fwd", wg: defaultWG, storage: attentionStorage, params: 32}
	attentionVJPQ    = &kernel{file: "attention.wgsl", entry: "attention_vjp_q", wg: defaultWG, storage: attentionStorage, params: 32}
	attentionVJPKV   = &kernel{file: "attention.wgsl", entry: "attention_vjp_kv", wg: defaultWG, storage: attentionStorage, params: 32}
)

// netKernels lists every kernel of the network executor, compiled by
// NewNet.
var netKernels = []*kernel{conv3x3Fwd, conv3x3VJP, conv1x1Fwd, conv1x1VJP,
	groupnormFwd, groupnormVJP, attentionFwd, attentionVJPQ, attentionVJPKV}

// convWeights is one conv layer's parameters on the device: int8 weights
// packed four per u32, per-output-channel scales and the bias, which starts
// at element boff of its buffer (ResBlock conv1s share one buffer of
// τ-dependent biases).
type convWeights struct {
	q, scale, bias *Buffer
	boff           int
	cin, cout      int
}

// newConvWeights uploads the int8 weight name+".weight" of m, and its bias
// if withBias (the caller supplies it otherwise).
func newConvWeights(d *Device, m *model.Model, name string, withBias bool) (*convWeights, error) {
	w, ok := m.Tensor(name + ".weight")
	b, okb := m.Tensor(name + ".bias")
	if !ok || !okb {
		return nil, fmt.Errorf("gpu: upload %s: no such conv in the model", name)
	}
	if w.Q == nil {
		return nil, fmt.Errorf("gpu: upload %s: weight is not int8 (use model.Quantize)", name)
	}
	c := &convWeights{cout: w.Shape[0], cin: w.Shape[1]}
	var err error
	if c.q, err = d.newBufferBytes(wgpu.ToBytes(packInt8(w.Q))); err != nil {
		return nil, fmt.Errorf("gpu: upload %s: %w", name, err)
	}
	if c.scale, err = uploadF32(d, w.Scale); err != nil {
		c.destroy()
		return nil, fmt.Errorf("gpu: upload %s scale: %w", name, err)
	}
	if !withBias {
		return c, nil
	}
	if c.bias, err = uploadF32(d, b.Data); err != nil {
		c.destroy()
		return nil, fmt.Errorf("gpu: upload %s bias: %w", name, err)
	}
	return c, nil
}

func (c *convWeights) destroy() {
	for _, b := range []*Buffer{c.q, c.scale, c.bias} {
		if b != nil {
			b.Destroy()
		}
	}
}

// packInt8 packs q four to a word, q[i] in byte i%4 of word i/4, the last
// word zero-padded.
func packInt8(q []int8) []uint32 {
	w := make([]uint32, (len(q)+3)/4)
	for i, v := range q {
		w[i/4] |= uint32(uint8(v)) << (8 * (i % 4))
	}
	return w
}

// uploadF32 returns a buffer holding v.
func uploadF32(d *Device, v []float32) (*Buffer, error) {
	return d.newBufferBytes(wgpu.ToBytes(v))
}

// conv3x3 records dst = conv3x3(src) (+ res if res is not nil) over an
// h×w input, of stride 1 or 2, reading the nearest ×2 upsampling of src if
// up.
func (d *Device) conv3x3(c *convWeights, dst, src, res *Buffer, h, w, stride int, up bool) error {
	p := convParams{Cin: uint32(c.cin), H: uint32(h), W: uint32(w), Cout: uint32(c.cout), Stride: uint32(stride), Boff: uint32(c.boff)}
	hu, wu := h, w
	if up {
		p.Up, hu, wu = 1, 2*h, 2*w
	}
	p.Ho, p.Wo = uint32((hu-1)/stride+1), uint32((wu-1)/stride+1)
	p.N = uint32(c.cout) * p.Ho * p.Wo
	return d.convDispatch(conv3x3Fwd, &p, c, dst, src, res)
}

// conv3x3VJP records dst = the gradient of conv3x3's h×w input given dy.
func (d *Device) conv3x3VJP(c *convWeights, dst, dy *Buffer, h, w, stride int, up bool) error {
	p := convParams{Cin: uint32(c.cin), H: uint32(h), W: uint32(w), Cout: uint32(c.cout), Stride: uint32(stride)}
	hu, wu := h, w
	if up {
		p.Up, hu, wu = 1, 2*h, 2*w
	}
	p.Ho, p.Wo = uint32((hu-1)/stride+1), uint32((wu-1)/stride+1)
	p.N = uint32(c.cin * h * w)
	return d.convDispatch(conv3x3VJP, &p, c, dst, dy, nil)
}

// conv1x1 records dst = conv1x1(src) (+ res if res is not nil) over n
// pixels.
func (d *Device) conv1x1(c *convWeights, dst, src, res *Buffer, n int) error {
	p := convParams{N: uint32(c.cout * n), Cin: uint32(c.cin), H: 1, W: uint32(n), Cout: uint32(c.cout), Ho: 1, Wo: uint32(n), Stride: 1, Boff: uint32(c.boff)}
	return d.convDispatch(conv1x1Fwd, &p, c, dst, src, res)
}

// conv1x1VJP records dst = the gradient of conv1x1's input given dy.
func (d *Device) conv1x1VJP(c *convWeights, dst, dy *Buffer, n int) error {
	p := convParams{N: uint32(c.cin * n), Cin: uint32(c.cin), H: 1, W: uint32(n), Cout: uint32(c.cout), Ho: 1, Wo: uint32(n), Stride: 1}
	return d.convDispatch(conv1x1VJP, &p, c, dst, dy, nil)
}

// convDispatch binds a conv kernel; a missing res is replaced by src, read
// but unused, since every binding needs a buffer.
func (d *Device) convDispatch(k *kernel, p *convParams, c *convWeights, dst, src, res *Buffer) error {
	if res != nil {
		p.Residual = 1
	} else {
		res = src
	}
	g, err := d.grid(int(p.N), k.wg)
	if err != nil {
		return err
	}
	return dispatch(d, k, g, p, dst, src, c.q, c.scale, c.bias, res)
}

// norm is one GroupNorm's affine parameters on the device.
type norm struct {
	gamma, beta *Buffer
}

// newNorm uploads the GroupNorm name of m.
func newNorm(d *Device, m *model.Model, name string) (*norm, error) {
	g, ok := m.Tensor(name + ".weight")
	b, okb := m.Tensor(name + ".bias")
	if !ok || !okb {
		return nil, fmt.Errorf("gpu: upload %s: no such norm in the model", name)
	}
	n := &norm{}
	var err error
	if n.gamma, err = uploadF32(d, g.Data); err != nil {
		return nil, fmt.Errorf("gpu: upload %s: %w", name, err)
	}
	if n.beta, err = uploadF32(d, b.Data); err != nil {
		n.gamma.Destroy()
		return nil, fmt.Errorf("gpu: upload %s: %w", name, err)
	}
	return n, nil
}

func (n *norm) destroy() {
	n.gamma.Destroy()
	n.beta.Destroy()
}

// groupNorm records dst = GroupNorm(src) of c channels of n pixels, then
// SiLU if silu, and each group's mean and 1/std in stats (2·groups).
func (d *Device) groupNorm(nm *norm, dst, stats, src *Buffer, c, n, groups int, silu bool) error {
	p := groupnormParams{C: uint32(c), N: uint32(n), Groups: uint32(groups), Silu: b2u(silu)}
	return d.groupnormDispatch(groupnormFwd, &p, dst, stats, src, nm, src, src)
}

// groupNormVJP records dst = the gradient of groupNorm's input src given
// dy and the stats it kept, plus add if add is not nil.
func (d *Device) groupNormVJP(nm *norm, dst, stats, src, dy, add *Buffer, c, n, groups int, silu bool) error {
	p := groupnormParams{C: uint32(c), N: uint32(n), Groups: uint32(groups), Silu: b2u(silu)}
	if add != nil {
		p.Residual = 1
	} else {
		add = dy
	}
	return d.groupnormDispatch(groupnormVJP, &p, dst, stats, src, nm, dy, add)
}

// groupnormDispatch runs one workgroup per group.
func (d *Device) groupnormDispatch(k *kernel, p *groupnormParams, dst, stats, src *Buffer, nm *norm, dy, add *Buffer) error {
	g, err := d.grid(int(p.Groups)*int(k.wg), k.wg)
	if err != nil {
		return err
	}
	return dispatch(d, k, g, p, dst, stats, src, nm.gamma, nm.beta, dy, add)
}

// attention records o = attention(qkv) over n positions with ch channels
// per q, k, v, keeping the softmax weights in probs (heads·n·n).
func (d *Device) attention(o, probs, qkv *Buffer, ch, n, heads int) error {
	p := attnParams(ch, n, heads)
	g, err := d.grid(int(p.Total), attentionFwd.wg)
	if err != nil {
		return err
	}
	return dispatch(d, attentionFwd, g, &p, o, probs, qkv, qkv, qkv)
}

// attentionVJP records dqkv = the gradient of attention's input given do,
// with the qkv and probs of the forward; ds (heads·n·n) is scratch.
func (d *Device) attentionVJP(dqkv, ds, do, qkv, probs *Buffer, ch, n, heads int) error {
	p := attnParams(ch, n, heads)
	g, err := d.grid(int(p.Total), attentionVJPQ.wg)
	if err != nil {
		return err
	}
	if err := dispatch(d, attentionVJPQ, g, &p, dqkv, ds, qkv, do, probs); err != nil {
		return err
	}
	p.Total = uint32(ch * n)
	if g, err = d.grid(int(p.Total), attentionVJPKV.wg); err != nil {
		return err
	}
	return dispatch(d, attentionVJPKV, g, &p, dqkv, ds, qkv, do, probs)
}

// attnParams returns the parameters of attention_fwd and attention_vjp_q,
// one invocation per (head, query).
func attnParams(ch, n, heads int) attentionParams {
	dh := ch / heads
	return attentionParams{Ch: uint32(ch), N: uint32(n), Heads: uint32(heads), D: uint32(dh),
		Scale: float32(1 / math.Sqrt(float64(dh))), Total: uint32(heads * n)}
}

// b2u returns 1 for true, the WGSL flags' encoding.
func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
