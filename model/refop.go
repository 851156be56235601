package model

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Op is one operation of a network step (Eps, then VJP) with its sizes, as
// the Runner runs it: what `conjure bench` times op by op on the CPU, under
// the names of the GPU kernels that do the same work.
type Op struct {
	// Kind is conv3x3_fwd, conv3x3_vjp, conv1x1_fwd, conv1x1_vjp,
	// groupnorm_fwd, groupnorm_vjp, attention_fwd or attention_vjp.
	Kind string
	// Convs: Cin → Cout channels over a Res×Res input (before any
	// upsampling), Stride 1 or 2, Up for Upsample's nearest ×2. GroupNorm:
	// Cin channels of Res² pixels, Silu if SiLU follows. Attention: Cin
	// channels per q, k and v over Res² positions.
	Cin, Cout, Res int
	Stride         int
	Up, Silu       bool
}

// Name returns the kernel name of op, with a 3×3 conv's variant: s1, s2
// (Downsample) or up (Upsample), e.g. "conv3x3_vjp/s2".
func (op Op) Name() string {
	switch {
	case op.Kind != "conv3x3_fwd" && op.Kind != "conv3x3_vjp":
		return op.Kind
	case op.Up:
		return op.Kind + "/up"
	case op.Stride == 2:
		return op.Kind + "/s2"
	}
	return op.Kind + "/s1"
}

// Flops returns the floating-point work of op counted as 2 per
// multiply-add of the convolutions and attention's products (a VJP as its
// forward), and 0 for GroupNorm, whose cost is memory traffic.
func (op Op) Flops() float64 {
	n := float64(op.Res * op.Res)
	switch op.Kind {
	case "conv3x3_fwd", "conv3x3_vjp":
		out := float64(convOut(op.Res, op.Stride) * convOut(op.Res, op.Stride))
		if op.Up {
			out = 4 * n
		}
		return 2 * 9 * float64(op.Cin*op.Cout) * out
	case "conv1x1_fwd", "conv1x1_vjp":
		return 2 * float64(op.Cin*op.Cout) * n
	case "attention_fwd":
		return 4 * n * n * float64(op.Cin)
	case "attention_vjp":
		return 8 * n * n * float64(op.Cin)
	}
	return 0
}

// Ops returns the operations of one step of the network of c, Eps then
// VJP, in the order the Runner runs them; concatenations, skip-gradient
// sums and the τ-only time embedding are left out.
func (c Config) Ops() []Op {
	var fwd []Op
	conv := func(cin, cout, res, stride int, up bool) {
		fwd = append(fwd, Op{Kind: "conv3x3_fwd", Cin: cin, Cout: cout, Res: res, Stride: stride, Up: up})
	}
	norm := func(ch, res int, silu bool) {
		fwd = append(fwd, Op{Kind: "groupnorm_fwd", Cin: ch, Res: res, Silu: silu})
	}
	for _, b := range c.Blocks() {
		switch b.Kind {
		case ConvIn:
			conv(b.Cin, b.Cout, b.Res, 1, false)
		case Down:
			conv(b.Cin, b.Cout, b.Res, 2, false)
		case Up:
			conv(b.Cin, b.Cout, b.Res, 1, true)
		case Res:
			norm(b.Cin, b.Res, true)
			conv(b.Cin, b.Cout, b.Res, 1, false)
			norm(b.Cout, b.Res, true)
			conv(b.Cout, b.Cout, b.Res, 1, false)
			if b.Cin != b.Cout {
				fwd = append(fwd, Op{Kind: "conv1x1_fwd", Cin: b.Cin, Cout: b.Cout, Res: b.Res, Stride: 1})
			}
		case Attn:
			norm(b.Cin, b.Res, false)
			fwd = append(fwd, Op{Kind: "conv1x1_fwd", Cin: b.Cin, Cout: 3 * b.Cin, Res: b.Res, Stride: 1},
				Op{Kind: "attention_fwd", Cin: b.Cin, Res: b.Res},
				Op{Kind: "conv1x1_fwd", Cin: b.Cin, Cout: b.Cin, Res: b.Res, Stride: 1})
		case Out:
			norm(b.Cin, b.Res, true)
			conv(b.Cin, b.Cout, b.Res, 1, false)
		}
	}
	ops := fwd
	for i := len(fwd) - 1; i >= 0; i-- {
		op := fwd[i]
		op.Kind = op.Kind[:len(op.Kind)-len("fwd")] + "vjp"
		ops = append(ops, op)
	}
	return ops
}

// TimeOp runs op as the Runner does on seeded random inputs, once to warm
// up and then runs times, and returns the mean wall time of a run. groups
// and heads are the network's (GroupNorm and attention only). An unknown
// Kind is an error.
func TimeOp(op Op, groups, heads, runs int) (time.Duration, error) {
	r := rand.New(rand.NewPCG(1, 2))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	n := op.Res * op.Res
	var f func()
	switch op.Kind {
	case "conv3x3_fwd", "conv3x3_vjp":
		f = convOp(op, vec)
	case "conv1x1_fwd":
		x, w, b, y := vec(op.Cin*n), vec(op.Cin*op.Cout), vec(op.Cout), vec(op.Cout*n)
		f = func() { conv1x1(y, x, w, b, op.Cin, n, op.Cout) }
	case "conv1x1_vjp":
		dy, w, dx := vec(op.Cout*n), vec(op.Cin*op.Cout), vec(op.Cin*n)
		f = func() { conv1x1VJP(dx, dy, w, op.Cin, n, op.Cout) }
	case "groupnorm_fwd", "groupnorm_vjp":
		x, g, b, y, s := vec(op.Cin*n), vec(op.Cin), vec(op.Cin), vec(op.Cin*n), vec(op.Cin*n)
		stats := make([]float64, 2*groups)
		groupNorm(y, x, g, b, stats, op.Cin, n, groups)
		if op.Kind == "groupnorm_fwd" {
			f = func() {
				groupNorm(y, x, g, b, stats, op.Cin, n, groups)
				if op.Silu {
					silu(s, y)
				}
			}
			break
		}
		dy, dx := vec(op.Cin*n), vec(op.Cin*n)
		f = func() {
			if op.Silu {
				siluVJP(s, dy, y)
			}
			groupNormVJP(dx, s, x, g, stats, op.Cin, n, groups)
		}
	case "attention_fwd", "attention_vjp":
		qkv, o, probs := vec(3*op.Cin*n), vec(op.Cin*n), vec(heads*n*n)
		attention(o, probs, qkv, op.Cin, n, heads)
		f = func() { attention(o, probs, qkv, op.Cin, n, heads) }
		if op.Kind == "attention_vjp" {
			dqkv, ds := vec(3*op.Cin*n), vec(heads*n*n)
			f = func() { attentionVJP(dqkv, o, qkv, probs, ds, op.Cin, n, heads) }
		}
	default:
		return 0, fmt.Errorf("model: time op: unknown kind %q", op.Kind)
	}
	f()
	start := time.Now()
	for range runs {
		f()
	}
	return time.Since(start) / time.Duration(runs), nil
}

// convOp returns a run of the 3×3 conv op as the Runner's convLayer does
// it: Upsample copies its input to twice the size first, and its VJP sums
// the gradient back.
func convOp(op Op, vec func(int) []float32) func() {
	side, s := op.Res, op.Stride
	if op.Up {
		side, s = 2*op.Res, 1
	}
	n, no := op.Res*op.Res, convOut(side, s)*convOut(side, s)
	w, b := vec(9*op.Cin*op.Cout), vec(op.Cout)
	x, big, y := vec(op.Cin*n), vec(op.Cin*side*side), vec(op.Cout*no)
	if op.Kind == "conv3x3_fwd" {
		return func() {
			in := x
			if op.Up {
				upsample(big, x, op.Cin, op.Res, op.Res)
				in = big
			}
			conv3x3(y, in, w, b, op.Cin, side, side, op.Cout, s)
		}
	}
	return func() {
		if op.Up {
			conv3x3VJP(big, y, w, op.Cin, side, side, op.Cout, 1)
			upsampleVJP(x, big, op.Cin, op.Res, op.Res)
			return
		}
		conv3x3VJP(x, y, w, op.Cin, side, side, op.Cout, s)
	}
}
