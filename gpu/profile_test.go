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
