package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Config is the shape of the network, stored as JSON under "config" in a
// weight file's metadata (NETWORK.md, "Config").
type Config struct {
	Resolution      int     `json:"resolution"`       // R: height and width of x
	InChannels      int     `json:"in_channels"`      // channels of x and ε
	Channels        int     `json:"channels"`         // C: base width, also the time embedding's
	Mult            []int   `json:"mult"`             // width of level l is Channels·Mult[l]
	ResBlocks       int     `json:"res_blocks"`       // ResBlocks per level on the way down (one more up)
	AttnResolutions []int   `json:"attn_resolutions"` // spatial sizes whose ResBlocks are followed by attention
	Groups          int     `json:"groups"`           // GroupNorm groups
	Heads           int     `json:"heads"`            // attention heads
	TimeScale       float64 `json:"time_scale"`       // the embedding sees t = TimeScale·τ
	// MidAttn is the optional "mid_attn": nil or true keeps the middle
	// block's attention; false drops it, as a local prior for tiles must.
	MidAttn *bool `json:"mid_attn,omitempty"`
}

// HasMidAttn reports whether the middle block has its attention.
func (c Config) HasMidAttn() bool { return c.MidAttn == nil || *c.MidAttn }

// Local reports whether ε at a pixel depends only on a neighbourhood in
// the network's own frame: no attention anywhere, so the network can be run
// on overlapping tiles of a larger image and blended.
func (c Config) Local() bool { return len(c.AttnResolutions) == 0 && !c.HasMidAttn() }

// Limits beyond NETWORK.md's rules. They keep sizes far from int overflow
// and bound what NewRunner allocates for a config read from an untrusted
// file; every real Conjure model is far inside them.
const (
	maxResolution = 4096
	maxWidth      = 1 << 14 // any channel count
	maxLevels     = 12
	maxResBlocks  = 64
)

// ConfigError reports a Config that breaks a rule of NETWORK.md or a limit
// of this package.
type ConfigError struct {
	Msg string
}

// Error returns "model: invalid config: " and the message.
func (e *ConfigError) Error() string { return "model: invalid config: " + e.Msg }

func configErr(format string, args ...any) error {
	return &ConfigError{Msg: fmt.Sprintf(format, args...)}
}

// Validate checks NETWORK.md's rules: all values positive, Resolution
// divisible by 2^(len(Mult)−1), Channels even, and every level width
// Channels·Mult[l] divisible by Groups and Heads. It also requires Channels
// divisible by Groups, because conv_in's output is concatenated into the
// input of up.0's last ResBlock, whose GroupNorm must split it into whole
// groups, and it enforces size limits (Resolution ≤ 4096, widths ≤ 16384,
// at most 12 levels and 64 ResBlocks per level) so that a hostile file
// cannot make NewRunner allocate without bound. It returns a *ConfigError.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"resolution", c.Resolution}, {"in_channels", c.InChannels}, {"channels", c.Channels},
		{"res_blocks", c.ResBlocks}, {"groups", c.Groups}, {"heads", c.Heads},
	} {
		if f.v <= 0 {
			return configErr("%s = %d, want > 0", f.name, f.v)
		}
	}
	if !(c.TimeScale > 0) || math.IsInf(c.TimeScale, 0) {
		return configErr("time_scale = %v, want finite and > 0", c.TimeScale)
	}
	if len(c.Mult) == 0 || len(c.Mult) > maxLevels {
		return configErr("len(mult) = %d, want 1..%d", len(c.Mult), maxLevels)
	}
	if c.Resolution > maxResolution || c.InChannels > maxWidth || c.Channels > maxWidth {
		return configErr("resolution %d, in_channels %d or channels %d too large", c.Resolution, c.InChannels, c.Channels)
	}
	if c.ResBlocks > maxResBlocks {
		return configErr("res_blocks = %d, want ≤ %d", c.ResBlocks, maxResBlocks)
	}
	for l, m := range c.Mult {
		if m <= 0 || m > maxWidth/c.Channels {
			return configErr("mult[%d] = %d, want 1..%d", l, m, maxWidth/c.Channels)
		}
		w := c.Channels * m
		if w%c.Groups != 0 || w%c.Heads != 0 {
			return configErr("level %d width %d not divisible by groups %d and heads %d", l, w, c.Groups, c.Heads)
		}
	}
	for i, r := range c.AttnResolutions {
		if r <= 0 {
			return configErr("attn_resolutions[%d] = %d, want > 0", i, r)
		}
	}
	if step := 1 << (len(c.Mult) - 1); c.Resolution%step != 0 {
		return configErr("resolution %d not divisible by 2^%d", c.Resolution, len(c.Mult)-1)
	}
	if c.Channels%2 != 0 {
		return configErr("channels %d is odd", c.Channels)
	}
	if c.Channels%c.Groups != 0 {
		return configErr("channels %d not divisible by groups %d", c.Channels, c.Groups)
	}
	return nil
}

// parseConfig decodes the JSON of a weight file's "config" entry, rejecting
// unknown fields (a misspelt field would otherwise silently change the
// network), and validates it.
func parseConfig(s string) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, err
	}
	if dec.More() {
		return Config{}, fmt.Errorf("data after the config object")
	}
	return c, c.Validate()
}

// marshal returns the config as NETWORK.md's JSON, with an empty list
// rather than null for no attention.
func (c Config) marshal() string {
	cc := c.clone()
	if cc.AttnResolutions == nil {
		cc.AttnResolutions = []int{}
	}
	if cc.HasMidAttn() {
		cc.MidAttn = nil // the default is not written, so older files keep their exact text
	}
	b, err := json.Marshal(cc)
	if err != nil {
		panic("model: marshal config: " + err.Error()) // ints and a finite float always marshal
	}
	return string(b)
}

func (c Config) clone() Config {
	cc := c
	cc.Mult = slices.Clone(c.Mult)
	cc.AttnResolutions = slices.Clone(c.AttnResolutions)
	if c.MidAttn != nil {
		v := *c.MidAttn
		cc.MidAttn = &v
	}
	return cc
}

// width returns ch_l = Channels·Mult[l].
func (c Config) width(l int) int { return c.Channels * c.Mult[l] }

// ParamSpec names one parameter tensor that a Config requires.
type ParamSpec struct {
	Name  string // e.g. "down.0.res.1.conv1.weight"
	Shape []int
	// Quantized marks conv and linear weights: int8 files store them as I8
	// Name plus F32 Name+"_scale" of shape (Shape[0],).
	Quantized bool
}

// Params lists the parameters of the network in forward order, with the
// names and shapes of NETWORK.md. c must be valid.
func (c Config) Params() []ParamSpec {
	var ps []ParamSpec
	add := func(name string, quantized bool, shape ...int) {
		ps = append(ps, ParamSpec{Name: name, Shape: shape, Quantized: quantized})
	}
	conv := func(name string, out, in, k int) {
		add(name+".weight", true, out, in, k, k)
		add(name+".bias", false, out)
	}
	linear := func(name string, out, in int) {
		add(name+".weight", true, out, in)
		add(name+".bias", false, out)
	}
	norm := func(name string, n int) {
		add(name+".weight", false, n)
		add(name+".bias", false, n)
	}
	temb := 4 * c.Channels
	linear("time.lin1", temb, c.Channels)
	linear("time.lin2", temb, temb)
	for _, b := range c.Blocks() {
		switch b.Kind {
		case ConvIn, Down, Up:
			conv(b.Name, b.Cout, b.Cin, 3)
		case Res:
			norm(b.Name+".norm1", b.Cin)
			conv(b.Name+".conv1", b.Cout, b.Cin, 3)
			linear(b.Name+".temb", b.Cout, temb)
			norm(b.Name+".norm2", b.Cout)
			conv(b.Name+".conv2", b.Cout, b.Cout, 3)
			if b.Cin != b.Cout {
				conv(b.Name+".skip", b.Cout, b.Cin, 1)
			}
		case Attn:
			norm(b.Name+".norm", b.Cin)
			conv(b.Name+".qkv", 3*b.Cin, b.Cin, 1)
			conv(b.Name+".out", b.Cin, b.Cin, 1)
		case Out:
			norm("norm_out", b.Cin)
			conv("conv_out", b.Cout, b.Cin, 3)
		}
	}
	return ps
}

// BlockKind is the kind of a block of the U-Net.
type BlockKind uint8

// The kinds of block.
const (
	ConvIn BlockKind = iota // conv_in
	Res                     // ResBlock
	Attn                    // Attention
	Down                    // Conv3×3 stride 2
	Up                      // nearest ×2, Conv3×3
	Out                     // norm_out, SiLU, conv_out
)

// Block is one step of the U-Net in forward order.
type Block struct {
	Kind      BlockKind
	Name      string // parameter prefix, e.g. "up.1.attn.0" (empty for Out)
	Cin, Cout int    // channels in (after any concatenation) and out
	Res       int    // spatial size of the input
	Push      bool   // the output is pushed on the skip stack
	Pop       int    // index of the block whose output is concatenated after h, or -1
}

// OutRes returns the spatial size of the block's output.
func (b Block) OutRes() int {
	switch b.Kind {
	case Down:
		return convOut(b.Res, 2)
	case Up:
		return 2 * b.Res
	}
	return b.Res
}

// Blocks unrolls NETWORK.md's "The U-Net" into the sequence of blocks with
// their widths, sizes and skip connections, the order every executor of the
// network (this package's Runner, the GPU's) follows. c must be valid.
func (c Config) Blocks() []Block {
	var bs []Block
	var stack []int   // indices of pushed blocks
	h := c.InChannels // channels of h
	res := c.Resolution
	add := func(b Block) {
		b.Res = res
		if b.Pop < 0 {
			b.Cin = h
		}
		bs = append(bs, b)
		h = b.Cout
	}
	push := func() {
		bs[len(bs)-1].Push = true
		stack = append(stack, len(bs)-1)
	}
	attn := func(name string) { add(Block{Kind: Attn, Name: name, Cout: h, Pop: -1}) }

	add(Block{Kind: ConvIn, Name: "conv_in", Cout: c.Channels, Pop: -1})
	push()
	L := len(c.Mult)
	for l := range L {
		pre := "down." + strconv.Itoa(l)
		for i := range c.ResBlocks {
			add(Block{Kind: Res, Name: pre + ".res." + strconv.Itoa(i), Cout: c.width(l), Pop: -1})
			if slices.Contains(c.AttnResolutions, res) {
				attn(pre + ".attn." + strconv.Itoa(i))
			}
			push()
		}
		if l < L-1 {
			add(Block{Kind: Down, Name: pre + ".down", Cout: h, Pop: -1})
			push()
			res /= 2
		}
	}
	add(Block{Kind: Res, Name: "mid.res1", Cout: h, Pop: -1})
	if c.HasMidAttn() {
		attn("mid.attn")
	}
	add(Block{Kind: Res, Name: "mid.res2", Cout: h, Pop: -1})
	for l := L - 1; l >= 0; l-- {
		pre := "up." + strconv.Itoa(l)
		for i := range c.ResBlocks + 1 {
			skip := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			add(Block{Kind: Res, Name: pre + ".res." + strconv.Itoa(i), Cin: h + bs[skip].Cout, Cout: c.width(l), Pop: skip})
			if slices.Contains(c.AttnResolutions, res) {
				attn(pre + ".attn." + strconv.Itoa(i))
			}
		}
		if l > 0 {
			add(Block{Kind: Up, Name: pre + ".up", Cout: h, Pop: -1})
			res *= 2
		}
	}
	add(Block{Kind: Out, Cout: c.InChannels, Pop: -1})
	return bs
}
