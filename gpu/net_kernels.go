package gpu

import (
	"fmt"
	"math"
	"strings"

	"github.com/cogentcore/webgpu/wgpu"

	"conjure/model"
)

// convParams mirrors struct Params of shaders/conv.wgsl.
type convParams struct {
	Cin, H, W, Cout        uint32
	Ho, Wo, Nq, Tiles      uint32
	Blocks, Residual, Boff uint32
	N                      uint32 // samples in the batch
}

// groupnormParams mirrors struct Params of shaders/groupnorm.wgsl.
type groupnormParams struct {
	C, N, Groups, Silu uint32
	Residual, Batch    uint32
	Pad1, Pad2         uint32
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
	conv3x3Fwd       = convVariants("conv3x3_fwd")
	conv3x3VJP       = convVariants("conv3x3_vjp")
	conv1x1Fwd       = &kernel{file: "conv.wgsl", entry: "conv1x1_fwd", wg: defaultWG, defs: convDefs(1, 0), storage: convStorage, params: 48}
	conv1x1VJP       = &kernel{file: "conv.wgsl", entry: "conv1x1_vjp", wg: defaultWG, defs: convDefs(1, 0), storage: convStorage, params: 48}
	groupnormStorage = []access{readWrite, readWrite, readOnly, readOnly, readOnly, readOnly, readOnly}
	groupnormFwd     = &kernel{file: "groupnorm.wgsl", entry: "groupnorm_fwd", wg: defaultWG, storage: groupnormStorage, params: 32}
	groupnormVJP     = &kernel{file: "groupnorm.wgsl", entry: "groupnorm_vjp", wg: defaultWG, storage: groupnormStorage, params: 32}
	attentionStorage = []access{readWrite, readWrite, readOnly, readOnly, readOnly}
	attentionFwd     = &kernel{file: "attention.wgsl", entry: "attention_fwd", wg: defaultWG, storage: attentionStorage, params: 32}
	attentionVJPQ    = &kernel{file: "attention.wgsl", entry: "attention_vjp_q", wg: defaultWG, storage: attentionStorage, params: 32}
	attentionVJPKV   = &kernel{file: "attention.wgsl", entry: "attention_vjp_kv", wg: defaultWG, storage: attentionStorage, params: 32}
)

// The register block of shaders/conv.wgsl: convK channels × convP pixels
// per invocation.
const (
	convK = 16
	convP = 4
)

// The 3×3 variants the network uses, compiled as separate pipelines so that
// the stride and the upsampling are constants in the shader's loops.
const (
	convStride1 = iota // stride 1
	convStride2        // Downsample: stride 2
	convUp             // Upsample: nearest ×2, then stride 1
	numConvVariants
)

// convVariant returns the variant of a 3×3 conv of stride 1 or 2, reading
// the nearest ×2 upsampling of its input if up.
func convVariant(stride int, up bool) int {
	switch {
	case up:
		return convUp
	case stride == 2:
		return convStride2
	}
	return convStride1
}

// convDefs returns the constants conv.wgsl expects for a stride and an
// upsampling shift.
func convDefs(stride, up int) string {
	return fmt.Sprintf("const STRIDE: u32 = %du;\nconst UP: u32 = %du;", stride, up)
}

// convVariants returns the kernels of a conv.wgsl entry point, one per
// 3×3 variant.
func convVariants(entry string) [numConvVariants]*kernel {
	var ks [numConvVariants]*kernel
	for v, su := range [numConvVariants][2]int{convStride1: {1, 0}, convStride2: {2, 0}, convUp: {1, 1}} {
		ks[v] = &kernel{file: "conv.wgsl", entry: entry, wg: defaultWG, defs: convDefs(su[0], su[1]), storage: convStorage, params: 48}
	}
	return ks
}

// netKernels lists every kernel of the network executor, compiled by
// NewNet.
var netKernels = append(append(conv3x3Fwd[:], conv3x3VJP[:]...), conv1x1Fwd, conv1x1VJP,
	groupnormFwd, groupnormVJP, attentionFwd, attentionVJPQ, attentionVJPKV)

// convWeights is one conv layer's parameters on the device: int8 weights
// packed four per u32 in the two blocked orders of shaders/conv.wgsl (fwd
// for the forward, vjp for the VJP), per-output-channel scales and the
// bias, which starts at element boff of its buffer (ResBlock conv1s share
// one buffer of τ-dependent biases).
type convWeights struct {
	fwd, vjp, scale, bias *Buffer
	boff                  int
	cin, cout             int
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
	var bias []float32
	if withBias {
		bias = b.Data
	}
	c, err := uploadConv(d, w.Q, w.Scale, bias, w.Shape[1], w.Shape[0])
	if err != nil {
		return nil, fmt.Errorf("gpu: upload %s: %w", name, err)
	}
	return c, nil
}

// uploadConv uploads the int8 weights q (cout, cin, k, k) in PyTorch's
// order with their scales, and bias unless it is nil.
func uploadConv(d *Device, q []int8, scale, bias []float32, cin, cout int) (*convWeights, error) {
	taps := len(q) / (cin * cout)
	c := &convWeights{cout: cout, cin: cin}
	var err error
	bufs := []struct {
		b    **Buffer
		data []byte
	}{
		{&c.fwd, wgpu.ToBytes(packBlocked(q, cout, cin, taps, false))},
		{&c.vjp, wgpu.ToBytes(packBlocked(q, cout, cin, taps, true))},
		{&c.scale, wgpu.ToBytes(scale)},
		{&c.bias, wgpu.ToBytes(bias)},
	}
	if bias == nil {
		bufs = bufs[:3]
	}
	for _, u := range bufs {
		if *u.b, err = d.newBufferBytes(u.data); err != nil {
			c.destroy()
			return nil, err
		}
	}
	return c, nil
}

func (c *convWeights) destroy() {
	for _, b := range []*Buffer{c.fwd, c.vjp, c.scale, c.bias} {
		if b != nil {
			b.Destroy()
		}
	}
}

// packBlocked packs the int8 weights q (cout, cin, taps) four per word in
// the blocked order of shaders/conv.wgsl: for each block of convK output
// channels, each input channel and each tap, the block's bytes; or, if
// vjp, the same with the roles of input and output channels swapped.
// Channels past the last are zero bytes.
func packBlocked(q []int8, cout, cin, taps int, vjp bool) []uint32 {
	outer, inner := cout, cin // blocked channels, then the summed ones
	at := func(blocked, summed, t int) int8 { return q[(blocked*cin+summed)*taps+t] }
	if vjp {
		outer, inner = cin, cout
		at = func(blocked, summed, t int) int8 { return q[(summed*cin+blocked)*taps+t] }
	}
	blocks := (outer + convK - 1) / convK
	w := make([]uint32, blocks*inner*taps*convK/4)
	i := 0
	for b := range blocks {
		for s := range inner {
			for t := range taps {
				for k := range convK {
					if ch := b*convK + k; ch < outer {
						w[i/4] |= uint32(uint8(at(ch, s, t))) << (8 * (i % 4))
					}
					i++
				}
			}
		}
	}
	return w
}

// uploadF32 returns a buffer holding v.
func uploadF32(d *Device, v []float32) (*Buffer, error) {
	return d.newBufferBytes(wgpu.ToBytes(v))
}

// conv3x3 records dst = conv3x3(src) (+ res if res is not nil) over a
// batch of n h×w inputs, of stride 1 or 2, reading the nearest ×2
// upsampling of src if up.
func (d *Device) conv3x3(c *convWeights, dst, src, res *Buffer, n, h, w, stride int, up bool) error {
	p := conv3x3Params(c, n, h, w, stride, up)
	p.Boff = uint32(c.boff)
	return d.convDispatch(conv3x3Fwd[convVariant(stride, up)], &p, c.cout, n*int(p.Ho), int(p.Wo), c, dst, src, res)
}

// conv3x3VJP records dst = the gradient of conv3x3's n h×w inputs given dy.
func (d *Device) conv3x3VJP(c *convWeights, dst, dy *Buffer, n, h, w, stride int, up bool) error {
	p := conv3x3Params(c, n, h, w, stride, up)
	return d.convDispatch(conv3x3VJP[convVariant(stride, up)], &p, c.cin, n*h, w, c, dst, dy, nil)
}

// conv3x3Params returns the sizes of a 3×3 conv over n h×w inputs.
func conv3x3Params(c *convWeights, n, h, w, stride int, up bool) convParams {
	hu, wu := h, w
	if up {
		hu, wu = 2*h, 2*w
	}
	return convParams{Cin: uint32(c.cin), H: uint32(h), W: uint32(w), Cout: uint32(c.cout),
		Ho: uint32((hu-1)/stride + 1), Wo: uint32((wu-1)/stride + 1), N: uint32(n)}
}

// conv1x1 records dst = conv1x1(src) (+ res if res is not nil) over n
// pixels (of all the samples of a batch: a 1×1 conv does not tell them
// apart).
func (d *Device) conv1x1(c *convWeights, dst, src, res *Buffer, n int) error {
	p := convParams{Cin: uint32(c.cin), H: 1, W: uint32(n), Cout: uint32(c.cout), Ho: 1, Wo: uint32(n), Boff: uint32(c.boff), N: 1}
	return d.convDispatch(conv1x1Fwd, &p, c.cout, 1, n, c, dst, src, res)
}

// conv1x1VJP records dst = the gradient of conv1x1's input given dy.
func (d *Device) conv1x1VJP(c *convWeights, dst, dy *Buffer, n int) error {
	p := convParams{Cin: uint32(c.cin), H: 1, W: uint32(n), Cout: uint32(c.cout), Ho: 1, Wo: uint32(n), N: 1}
	return d.convDispatch(conv1x1VJP, &p, c.cin, 1, n, c, dst, dy, nil)
}

// convDispatch binds a conv kernel that writes ch channels of rows × cols
// pixels (rows counting those of every sample), one workgroup per channel block and WG·convP pixels; a missing
// res is replaced by src, read but unused, since every binding needs a
// buffer.
func (d *Device) convDispatch(k *kernel, p *convParams, ch, rows, cols int, c *convWeights, dst, src, res *Buffer) error {
	if res != nil {
		p.Residual = 1
	} else {
		res = src
	}
	nq := (cols + convP - 1) / convP
	p.Nq = uint32(nq)
	p.Tiles = uint32((rows*nq + int(k.wg) - 1) / int(k.wg))
	p.Blocks = uint32((ch + convK - 1) / convK)
	g, err := d.grid(int(p.Blocks*p.Tiles)*int(k.wg), k.wg)
	if err != nil {
		return err
	}
	q := c.fwd
	if strings.HasSuffix(k.entry, "_vjp") {
		q = c.vjp
	}
	return dispatch(d, k, g, p, dst, src, q, c.scale, c.bias, res)
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

// groupNorm records dst = GroupNorm(src) of a batch of samples of c
// channels of n pixels, then SiLU if silu, and each sample's group means
// and 1/std in stats (2·groups·batch).
func (d *Device) groupNorm(nm *norm, dst, stats, src *Buffer, c, batch, n, groups int, silu bool) error {
	p := groupnormParams{C: uint32(c), N: uint32(n), Groups: uint32(groups), Silu: b2u(silu), Batch: uint32(batch)}
	return d.groupnormDispatch(groupnormFwd, &p, dst, stats, src, nm, src, src)
}

// groupNormVJP records dst = the gradient of groupNorm's input src given
// dy and the stats it kept, plus add if add is not nil.
func (d *Device) groupNormVJP(nm *norm, dst, stats, src, dy, add *Buffer, c, batch, n, groups int, silu bool) error {
	p := groupnormParams{C: uint32(c), N: uint32(n), Groups: uint32(groups), Silu: b2u(silu), Batch: uint32(batch)}
	if add != nil {
		p.Residual = 1
	} else {
		add = dy
	}
	return d.groupnormDispatch(groupnormVJP, &p, dst, stats, src, nm, dy, add)
}

// groupnormDispatch runs one workgroup per group and sample.
func (d *Device) groupnormDispatch(k *kernel, p *groupnormParams, dst, stats, src *Buffer, nm *norm, dy, add *Buffer) error {
	g, err := d.grid(int(p.Groups*p.Batch)*int(k.wg), k.wg)
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
