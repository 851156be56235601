//go:build !js

package gpu

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestNetProfile checks that Profile reports every dispatch of a step
// with a time, and that its convolutions and normalisations are the
// CPU reference's ops (model.Config.Ops) one for one, with the same
// arithmetic: what `conjure bench` puts side by side.
func TestNetProfile(t *testing.T) {
	_, n := newTestNet(t, tinyConfig, 7)
	ds, err := n.Profile(0.5, 2)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, d := range ds {
		if d.Kernel == "" || math.IsNaN(d.Seconds) || d.Seconds < 0 || d.Flops < 0 {
			t.Errorf("dispatch %+v", d)
		}
		if strings.HasPrefix(d.Kernel, "conv") || strings.HasPrefix(d.Kernel, "groupnorm") {
			count[fmt.Sprintf("%s %.0f", d.Kernel, d.Flops)]++
		}
	}
	for _, op := range tinyConfig.Ops() {
		if strings.HasPrefix(op.Kind, "conv") || strings.HasPrefix(op.Kind, "groupnorm") {
			count[fmt.Sprintf("%s %.0f", op.Name(), op.Flops())]--
		}
	}
	for k, c := range count {
		if c != 0 {
			t.Errorf("%s: %+d dispatches on the GPU against the CPU reference's ops", k, c)
		}
	}
}

// TestTiledProfile checks that TiledNet.Profile lists every dispatch of a
// tiled step: 6 tiles in batches of at most 4 make two batches of 3, so
// Eps runs the network's forward pass on both and VJP its backward pass
// on both, recomputing the forward pass of the batch Eps did not end
// with; the convolutions' arithmetic is the CPU reference's, per tile.
func TestTiledProfile(t *testing.T) {
	_, tn := newTiledPair(t, 16, 23, 37, 0, 4, 5)
	ds, err := tn.Profile(0.5, 2)
	if err != nil {
		t.Fatal(err)
	}
	const tiles, batches, recomputed = 6, 2, 3
	var fwd, vjp float64
	for _, op := range localConfig(16).Ops() {
		if strings.HasSuffix(op.Kind, "_fwd") {
			fwd += op.Flops()
		} else {
			vjp += op.Flops()
		}
	}
	var flops float64
	count := map[string]int{}
	for _, d := range ds {
		if d.Kernel == "" || math.IsNaN(d.Seconds) || d.Seconds < 0 {
			t.Errorf("dispatch %+v", d)
		}
		flops += d.Flops
		count[d.Kernel]++
	}
	if want := (tiles+recomputed)*fwd + tiles*vjp; math.Abs(flops-want) > 1e-9*want {
		t.Errorf("%.0f flops in the step, want %.0f", flops, want)
	}
	if count["tile_cut"] != 3*batches-1 || count["tile_blend"] != 2 {
		t.Errorf("%d cuts and %d blends, want %d and 2", count["tile_cut"], count["tile_blend"], 3*batches-1)
	}
}
