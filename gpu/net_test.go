package gpu

import (
	"math/rand/v2"
	"testing"

	"conjure/cpu"
	"conjure/metrics"
	"conjure/model"
	"conjure/models"
	"conjure/operator"
	"conjure/sampler"
)

// tinyConfig is a small U-Net that still has every kind of block: two
// levels (a Downsample and an Upsample), ResBlocks with and without a
// Conv1×1 skip, concatenated skips, and attention at 8×8 over 12 channels
// in two heads; no channel count is a multiple of 4 and each group has an
// odd number of channels (3 at level 0).
var tinyConfig = model.Config{
	Resolution: 16, InChannels: 3, Channels: 6, Mult: []int{1, 2}, ResBlocks: 1,
	AttnResolutions: []int{8}, Groups: 2, Heads: 2, TimeScale: 1000,
}

// newTestNet returns the int8 model of cfg with seeded random weights, its
// CPU Runner and its Net on the test device.
func newTestNet(t *testing.T, cfg model.Config, seed uint64) (*model.Runner, *Net) {
	t.Helper()
	f, err := model.NewRandom(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	m := f.Quantize()
	n, err := NewNet(testDevice(t), m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Destroy)
	return m.NewRunner(), n
}

// compareNet checks the Net's Eps and VJP against the CPU Runner at
// random x and v, for each τ in turn (so that the second call also checks
// that nothing of the first leaks into it).
func compareNet(t *testing.T, r *model.Runner, n *Net, seed uint64, taus ...float64) {
	t.Helper()
	compareNetwork(t, n.d, r, n, n.Dim(), seed, taus...)
}

// cpuNetwork is a CPU reference network: model.Runner or tile.Net.
type cpuNetwork interface {
	Eps(dst, x []float64, tau float64)
	VJP(dst, v []float64)
}

// compareNetwork checks got (on d) against want at random x and v of dim
// elements, for each τ in turn, to relative error 1e-4.
func compareNetwork(t *testing.T, d *Device, want cpuNetwork, got Network, dim int, seed uint64, taus ...float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	bufs := make([]*Buffer, 4)
	for i := range bufs {
		b, err := d.NewBuffer(dim)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Destroy() })
		bufs[i] = b
	}
	xb, vb, eb, gb := bufs[0], bufs[1], bufs[2], bufs[3]
	ref, out := make([]float64, dim), make([]float64, dim)
	for _, tau := range taus {
		x, v := randomVec(rng, dim), randomVec(rng, dim)
		must(xb.Write(x))
		must(vb.Write(v))
		want.Eps(ref, x, tau)
		got.Eps(eb, xb, tau)
		must(eb.Read(out))
		if e := relErr(out, ref); !(e <= 1e-4) {
			t.Errorf("τ = %v: Eps differs from the CPU reference by %.3g relative, want ≤ 1e-4", tau, e)
		} else {
			t.Logf("τ = %v: Eps relative error %.3g", tau, e)
		}
		want.VJP(ref, v)
		got.VJP(gb, vb)
		must(gb.Read(out))
		if e := relErr(out, ref); !(e <= 1e-4) {
			t.Errorf("τ = %v: VJP differs from the CPU reference by %.3g relative, want ≤ 1e-4", tau, e)
		} else {
			t.Logf("τ = %v: VJP relative error %.3g", tau, e)
		}
	}
}

func TestNetMatchesRunner(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  model.Config
	}{
		{"tiny", tinyConfig},
		// Three levels with equal widths (identity skips on the way
		// down), two ResBlocks per level, attention at two sizes with one
		// head, and a 2×2 middle.
		{"deep", model.Config{
			Resolution: 8, InChannels: 1, Channels: 4, Mult: []int{1, 1, 2}, ResBlocks: 2,
			AttnResolutions: []int{4, 2}, Groups: 2, Heads: 1, TimeScale: 1000,
		}},
		// No attention anywhere (mid_attn false): the photo prior's shape.
		{"local", model.Config{
			Resolution: 16, InChannels: 3, Channels: 6, Mult: []int{1, 2, 2}, ResBlocks: 1,
			AttnResolutions: []int{}, Groups: 2, Heads: 2, TimeScale: 1000, MidAttn: new(false),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, n := newTestNet(t, tc.cfg, 1)
			compareNet(t, r, n, 2, 0.3, 0.9)
		})
	}
}

// TestNetSolve runs a 5-step C-ΠGDM box-SR ×2 restoration of a 3×16×16
// image with the tiny random network, on the GPU with the Net and on the
// CPU with the Runner, and requires the two outputs to agree to 50 dB
// PSNR on [0, 1].
func TestNetSolve(t *testing.T) {
	r, n := newTestNet(t, tinyConfig, 3)
	op, err := operator.NewBoxSR(3, 16, 16, 2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	x0 := make([]float64, op.In())
	for i := range x0 {
		x0[i] = 2*rng.Float64() - 1
	}
	y := make([]float64, op.Out())
	op.Forward(y, x0)
	z := sampler.Noise(op.In(), 7)
	o := sampler.DefaultOptions(sampler.CPiGDM)
	want, err := sampler.Solve(cpu.New(r), op, y, 0, o, sampler.Start{}, z, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sampler.Solve(testBackend(t, n), op, y, 0, o, sampler.Start{}, z, nil)
	if err != nil {
		t.Fatal(err)
	}
	psnr := metrics.PSNR(got, want)
	inside := 0
	for _, v := range want {
		if v >= -1 && v <= 1 {
			inside++
		}
	}
	// PSNR clips to [−1, 1]; the relative L2 difference sees every value.
	t.Logf("GPU vs CPU restoration: %.1f dB PSNR (%d of %d CPU values inside [−1, 1]), relative L2 difference %.3g",
		psnr, inside, len(want), relErr(got, want))
	if !(psnr >= 50) {
		t.Errorf("GPU and CPU restorations differ: %.1f dB PSNR, want ≥ 50", psnr)
	}
}

// TestNetShippedModel compares one forward and one VJP of each shipped
// 64×64 model on the GPU with the CPU Runner.
func TestNetShippedModel(t *testing.T) {
	for _, name := range models.Names {
		t.Run(name, func(t *testing.T) {
			m, err := models.Shipped(name)
			if err != nil {
				t.Fatal(err)
			}
			n, err := NewNet(testDevice(t), m)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(n.Destroy)
			compareNet(t, m.NewRunner(), n, 4, 0.5)
		})
	}
}

// TestNetRecordsOnly checks that Eps and VJP wait for nothing: they record
// into the pending batch, and only Eps's upload of the τ-dependent biases
// submits the work recorded before it.
func TestNetRecordsOnly(t *testing.T) {
	_, n := newTestNet(t, tinyConfig, 5)
	d := n.d
	bufs := make([]*Buffer, 3)
	for i := range bufs {
		b, err := d.NewBuffer(n.Dim())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Destroy() })
		bufs[i] = b
	}
	must(d.Flush())
	before := d.submits
	n.Eps(bufs[1], bufs[0], 0.5)
	n.VJP(bufs[2], bufs[1])
	n.Eps(bufs[1], bufs[0], 0.25)
	n.VJP(bufs[2], bufs[1])
	// The second Eps's upload submits the first Eps and VJP.
	if k := d.submits - before; k > 1 {
		t.Errorf("two Eps and VJP calls submitted %d batches, want ≤ 1", k)
	}
	must(d.Flush())
}

// TestNetRefusesF32 checks that NewNet asks for the int8 model the GPU
// path dequantizes rather than guessing a quantization of f32 weights.
func TestNetRefusesF32(t *testing.T) {
	f, err := model.NewRandom(tinyConfig, 1)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := NewNet(testDevice(t), f); err == nil {
		n.Destroy()
		t.Fatal("NewNet accepted an F32 model")
	} else {
		t.Logf("NewNet(F32 model): %v", err)
	}
}
