package model

import (
	"strings"
	"testing"
)

// TestOpsTimed checks that Config.Ops lists a forward and a mirrored VJP
// whose every op TimeOp can run, with the arithmetic of the convolutions.
func TestOpsTimed(t *testing.T) {
	cfg := Config{
		Resolution: 8, InChannels: 3, Channels: 4, Mult: []int{1, 2}, ResBlocks: 1,
		AttnResolutions: []int{4}, Groups: 2, Heads: 2, TimeScale: 1000,
	}
	ops := cfg.Ops()
	if len(ops)%2 != 0 || len(ops) == 0 {
		t.Fatalf("%d ops, want a forward and its VJP", len(ops))
	}
	kinds := map[string]bool{}
	for i, op := range ops[:len(ops)/2] {
		back, want := ops[len(ops)-1-i], op
		want.Kind = strings.TrimSuffix(op.Kind, "fwd") + "vjp"
		if back != want {
			t.Errorf("op %d is %+v, its VJP %+v", i, op, back)
		}
		kinds[op.Name()] = true
	}
	for _, k := range []string{"conv3x3_fwd/s1", "conv3x3_fwd/s2", "conv3x3_fwd/up", "conv1x1_fwd", "groupnorm_fwd", "attention_fwd"} {
		if !kinds[k] {
			t.Errorf("no %s among the ops", k)
		}
	}
	if f := (Op{Kind: "conv3x3_vjp", Cin: 3, Cout: 4, Res: 8, Stride: 2}).Flops(); f != 2*9*3*4*16 {
		t.Errorf("flops of a stride-2 conv: %v", f)
	}
	if f := (Op{Kind: "conv3x3_fwd", Cin: 3, Cout: 4, Res: 8, Stride: 1, Up: true}).Flops(); f != 2*9*3*4*256 {
		t.Errorf("flops of an upsampling conv: %v", f)
	}
	for _, op := range ops {
		d, err := TimeOp(op, cfg.Groups, cfg.Heads, 1)
		if err != nil || d <= 0 {
			t.Errorf("%s: %v, %v", op.Name(), d, err)
		}
	}
	if _, err := TimeOp(Op{Kind: "conv5x5_fwd"}, 1, 1, 1); err == nil {
		t.Error("TimeOp accepted an unknown kind")
	}
}
